import Replica

extension Directory {
    /// The directory a record holds, live or deleted (a tombstone keeps its
    /// fields), or `nil` when the record is not a directory.
    ///
    /// The SCIM service authenticates against it: a deleted directory's token
    /// still identifies the caller, who is answered as SPEC §5 says for
    /// deleted directories rather than as a stranger.
    public init?(record r: Record) {
        self.init(r)
    }
}
