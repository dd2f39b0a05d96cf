import HTTP
import JSON
import SetupLinks
import Storage

/// `/api/v1/dsync/setuplinks` and `/api/v1/dsync/setuplinks/product` (Jackson's
/// `pages/api/v1/dsync/setuplinks/*`). One link per tenant and product, its `setupID`
/// derived from them (SetupLinks.docc/LinksAndDirectories.md), so a regenerated link keeps its id.
extension Call {
    /// `POST {tenant, product, webhook_url, webhook_secret, name?, expiryDays?, regenerate?}`:
    /// 201 with the link: a new one, or the live one that exists (unchanged, as Jackson does),
    /// or, with `regenerate` or when it expired, the same link with a new token and validity.
    func createLink() throws -> HTTPResponse {
        let b = try bodyObject()
        let tenant = try b.string("tenant") ?? "", product = try b.string("product") ?? ""
        guard !tenant.isEmpty, !product.isEmpty else { throw APIError.badRequest("Must provide tenant and product") }
        let url = try b.string("webhook_url") ?? "", secret = try b.string("webhook_secret") ?? ""
        guard !url.isEmpty, !secret.isEmpty else { throw APIError.badRequest("Must provide webhook_url and webhook_secret") }
        let name = try b.string("name")
        var days: Int?
        switch b["expiryDays"] {
        case nil, .null?: days = nil
        case .int(let d)?: days = Int(clamping: d)
        case .string(let s)? where Int(s) != nil: days = Int(s)
        default: throw APIError.badRequest("expiryDays must be a whole number of days")
        }
        if let d = days { try Validation.expiryDays(String(d)) }
        let regenerate = try b.bool("regenerate") ?? false
        try allow(product: Validation.trimmed(product))
        let (link, _) = try service.createLink(tenant: tenant, product: product, webhookURL: url, webhookSecret: secret,
                                               name: name.flatMap { Validation.trimmed($0).isEmpty ? nil : $0 },
                                               expiryDays: days, regenerate: regenerate)
        return data(Shapes.link(link, externalURL: externalURL), status: 201)
    }

    /// The link a `GET`/`DELETE` names: `?id=` (its `setupID`), else `?tenant=&product=`.
    private func namedLink() throws -> SetupLink {
        let id: String
        if let given = query.nonEmpty("id") {
            id = given
        } else if let tenant = query.nonEmpty("tenant"), let product = query.nonEmpty("product") {
            try allow(product: product)
            id = SetupLinkService.linkID(tenant: tenant, product: product)
        } else {
            throw APIError.badRequest("Please provide id, or tenant and product")
        }
        guard id.utf8.count <= 64, let r = try store.record(id: id), r.isLive, let link = SetupLink(record: r),
              sees(link.product) else {
            throw APIError.notFound("Setup link is not found")
        }
        return link
    }

    /// `GET ?id=` or `?tenant=&product=`: the link (expired ones too, with their `validTill`).
    func getLink() throws -> HTTPResponse {
        data(Shapes.link(try namedLink(), externalURL: externalURL))
    }

    /// `DELETE ?id=` or `?tenant=&product=`: the link is deleted, its token stops working, its
    /// directories stay. 200 `{"data":{}}`.
    func deleteLink() throws -> HTTPResponse {
        try service.deleteLink(id: try namedLink().id)
        return data(.object([]))
    }

    /// `GET ?product=`: the product's links, in tenant order, paged.
    func linksOfProduct() throws -> HTTPResponse {
        guard let product = query.nonEmpty("product") else { throw APIError.badRequest("Please provide a product") }
        try allow(product: product)
        let paging = try query.paging()
        let prefix = Validation.trimmed(product) + IndexSpec.separator
        let (entries, next) = try IndexPager(store: store, index: "link.product").page(prefixes: [prefix], paging)
        let items = entries.compactMap { SetupLink(record: $0.record) }.map { Shapes.link($0, externalURL: externalURL) }
        return list(items, errorNull: false, next: next)
    }
}
