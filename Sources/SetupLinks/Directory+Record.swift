import Replica

extension Directory {
    /// The directory a record holds, live or deleted (a tombstone keeps its
    /// fields), or `nil` when the record is not a directory.
    ///
    /// The SCIM service authenticates against it: a deleted directory's token
    /// still identifies the caller, who is answered as Scim.docc/ScimService.md says for
    /// deleted directories rather than as a stranger.
    public init?(record r: Record) {
        self.init(r)
    }

    /// The tenant and product of a directory record that is live and not deactivated
    /// (what an event names), else `nil`: what `init?(record:)` and `deactivated` say,
    /// reading only the fields that decide it (the webhook outbox asks in every change).
    public static func eventScope(of r: Record) -> (tenant: String, product: String)? {
        guard r.isLive, r.kind == .directory, let tenant = r["tenant"], let product = r["product"],
              r["type"].flatMap(DirectoryType.init(rawValue:)) != nil, r["deactivated"] != "true" else { return nil }
        return (tenant, product)
    }
}
