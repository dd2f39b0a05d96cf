import HTTP
import JSON
import SetupLinks
import Storage

/// `/api/v1/dsync`, `/api/v1/dsync/<directoryId>`, `/api/v1/dsync/product` (Jackson's
/// `pages/api/v1/dsync/{index,[directoryId],product}.ts`).
extension Call {
    /// `POST {tenant, product, name?, type?, webhook_url?, webhook_secret?}`: 201 with a new
    /// directory. `type` defaults to `generic-scim-v2`, as Jackson's API does; the webhook
    /// is set only when both `webhook_url` and `webhook_secret` are given.
    func createDirectory() throws -> HTTPResponse {
        let b = try bodyObject()
        let tenant = try b.string("tenant") ?? "", product = try b.string("product") ?? ""
        guard !tenant.isEmpty, !product.isEmpty else { throw APIError.badRequest("Missing required parameters.") }
        let typeName = try b.string("type") ?? DirectoryType.generic.rawValue
        guard let type = DirectoryType(rawValue: typeName) else { throw APIError.badRequest("Invalid directory type.") }
        try allow(product: Validation.trimmed(product))
        let name = try b.string("name").flatMap { Validation.trimmed($0).isEmpty ? nil : $0 }
        let d = try service.createDirectory(tenant: tenant, product: product, type: type, name: name,
                                            webhookURL: try b.string("webhook_url"), webhookSecret: try b.string("webhook_secret"))
        return data(Shapes.directory(d, externalURL: externalURL), status: 201)
    }

    /// `GET ?tenant=&product=`: that tenant and product's directories (every one: a tenant
    /// rarely has more than a few), in name order.
    func directoriesOfTenant() throws -> HTTPResponse {
        guard let tenant = query.nonEmpty("tenant"), let product = query.nonEmpty("product") else {
            throw APIError.badRequest("Please provide tenant and product")
        }
        try allow(product: product)
        let all = try service.directories(tenant: tenant, product: product)
        return data(.array(all.map { Shapes.directory($0, externalURL: externalURL) }))
    }

    /// The live directory `id`, if the key may see it; else "not found".
    func visibleDirectory(_ id: String, message: String = "Directory configuration not found.") throws -> Directory {
        guard let d = try service.directory(exactID: id), sees(d.product) else { throw APIError.notFound(message) }
        return d
    }

    /// `GET /<id>`.
    func getDirectory(_ id: String) throws -> HTTPResponse {
        data(Shapes.directory(try visibleDirectory(id), externalURL: externalURL))
    }

    /// `PATCH /<id>` with any of `name`, `deactivated`, `log_webhook_events`, `webhook`
    /// (`{endpoint, secret}`), `webhook_url`, `webhook_secret` (the last two win over
    /// `webhook`, as in Jackson; `""` removes the webhook). 200 with the directory.
    func patchDirectory(_ id: String) throws -> HTTPResponse {
        let b = try bodyObject()
        let d = try visibleDirectory(id)
        var url: String?, secret: String?
        switch b["webhook"] {
        case nil, .null?: break
        case .object(let members)?:
            let w = JSONObject(members: members)
            url = try w.string("endpoint") ?? ""
            secret = try w.string("secret") ?? ""
        default: throw APIError.badRequest("webhook must be an object {endpoint, secret}")
        }
        if b["webhook_url"] != nil { url = try b.string("webhook_url") ?? "" }
        if b["webhook_secret"] != nil { secret = try b.string("webhook_secret") ?? "" }
        let (updated, _) = try service.updateDirectory(
            id: d.id, name: try b.string("name"), deactivated: try b.bool("deactivated"),
            logWebhookEvents: try b.bool("log_webhook_events"), webhookURL: url, webhookSecret: secret)
        return data(Shapes.directory(updated, externalURL: externalURL))
    }

    /// `DELETE /<id>`: the directory is deleted (its SCIM token stops working; its users,
    /// groups and events stay in the replica, out of reach). 200 `{"data":{}}`.
    func deleteDirectory(_ id: String) throws -> HTTPResponse {
        try service.deleteDirectory(id: try visibleDirectory(id).id)
        return data(.object([]))
    }

    /// `GET /product?product=`: the product's directories, in tenant then name order, paged.
    func directoriesOfProduct() throws -> HTTPResponse {
        guard let product = query.nonEmpty("product") else { throw APIError.badRequest("Please provide a product") }
        try allow(product: product)
        let paging = try query.paging()
        let prefix = Validation.trimmed(product) + IndexSpec.separator
        let (entries, next) = try IndexPager(store: store, index: "directory.product").page(prefixes: [prefix], paging)
        let items = entries.compactMap { e in e.record.isLive ? Directory(record: e.record) : nil }
            .map { Shapes.directory($0, externalURL: externalURL) }
        return list(items, errorNull: true, next: next)
    }
}
