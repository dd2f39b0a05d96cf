import Events
import HTTP
import JSON
import Replica
import Scim
import SetupLinks
import Storage

/// `/api/v1/dsync/users`, `/users/<id>`, `/groups`, `/groups/<id>`, `/groups/<id>/members`
/// (Jackson's `pages/api/v1/dsync/{users,groups}/**`): the users and groups the identity
/// providers pushed, read from this replica (whichever hub accepted them).
///
/// A request names its directories by `directoryId`, or by `tenant` and `product` (then
/// every directory of theirs, in name order). Lists are in the order this replica stores
/// the rows (creation order, per directory), not Jackson's newest first: a page then stays
/// where it was while users are added, so paging through a directory misses no one.
extension Call {
    /// The directories the request covers: `directoryId`'s (which must be live and of the
    /// key's product, and of `tenant`/`product` when those are given too), else every
    /// directory of `tenant` and `product`.
    func scope() throws -> [Directory] {
        let tenant = query.nonEmpty("tenant"), product = query.nonEmpty("product")
        if let id = query.nonEmpty("directoryId") {
            guard let d = try service.directory(exactID: id), sees(d.product),
                  tenant.map({ $0 == d.tenant }) ?? true, product.map({ $0 == d.product }) ?? true else {
                throw APIError.notFound("Directory not found.")
            }
            return [d]
        }
        guard let tenant, let product else { throw APIError.badRequest("Please provide tenant and product, or directoryId") }
        try allow(product: product)
        return try service.directories(tenant: tenant, product: product)
    }

    /// A user's object: its webhook `data` and `directoryId`.
    func userObject(_ r: Record) throws -> JSONValue {
        let directory = ScimRecords.directory(of: r) ?? ""
        return Shapes.user(data: EventData.user(try routes.browser.userResource(r)), directory: directory)
    }

    /// A group's object: `id`, `name`, `raw` (without members), as in its webhook events.
    func groupObject(_ r: Record) throws -> JSONValue {
        EventData.group(try routes.browser.groupResource(r))
    }

    /// `GET /users`: `{"data":[User…],"error":null}` (+ `pageToken` when more may follow).
    func users() throws -> HTTPResponse {
        let dirs = try scope()
        let (entries, next) = try IndexPager(store: store, index: ScimIndex.usersOfDirectory.rawValue)
            .page(prefixes: dirs.map { ScimIndex.prefix($0.id) }, try query.paging())
        return list(try entries.filter { $0.record.kind == .user }.map { try userObject($0.record) }, errorNull: true, next: next)
    }

    /// The live record `id` of `kind` in one of the request's directories, or "not found".
    private func scoped(_ id: String, _ kind: RecordKind, notFound: String) throws -> Record {
        let dirs = try scope()
        guard id.utf8.count <= 128, let r = try store.record(id: id), r.isLive, r.kind == kind,
              let d = ScimRecords.directory(of: r), dirs.contains(where: { $0.id == d }) else {
            throw APIError.notFound(notFound)
        }
        return r
    }

    /// `GET /users/<id>`: `{"data": User}`.
    func user(_ id: String) throws -> HTTPResponse {
        data(try userObject(try scoped(id, .user, notFound: "User not found")))
    }

    /// `GET /groups`: `{"data":[Group…],"error":null}`.
    func groups() throws -> HTTPResponse {
        let dirs = try scope()
        let (entries, next) = try IndexPager(store: store, index: ScimIndex.groupsOfDirectory.rawValue)
            .page(prefixes: dirs.map { ScimIndex.prefix($0.id) }, try query.paging())
        return list(try entries.filter { $0.record.kind == .group }.map { try groupObject($0.record) }, errorNull: true, next: next)
    }

    /// `GET /groups/<id>`: `{"data": Group}`.
    func group(_ id: String) throws -> HTTPResponse {
        data(try groupObject(try scoped(id, .group, notFound: "Group with id \(id.prefix(128)) not found.")))
    }

    /// `GET /groups/<id>/members`: `{"data":[{"user_id":…}…]}`, in member order, paged.
    /// A member need not be a user of the directory (Jackson records any member value).
    func members(_ id: String) throws -> HTTPResponse {
        let g = try scoped(id, .group, notFound: "Group with id \(id.prefix(128)) not found.")
        let (entries, next) = try IndexPager(store: store, index: ScimIndex.membersOfGroup.rawValue)
            .page(prefixes: [ScimIndex.prefix(g.id)], try query.paging()) { ScimRecords.isPresent($0.record) }
        let items: [JSONValue] = entries.compactMap { e in
            e.record[ScimRecords.memberField].map { .object([("user_id", .string($0))]) }
        }
        return list(items, errorNull: false, next: next)
    }
}
