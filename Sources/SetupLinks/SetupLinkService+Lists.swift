import Foundation
import Replica
import Storage

/// One page of a list answered from an index, and where the next page starts.
public struct ListPage<Item: Sendable>: Sendable {
    /// The items of this page (possibly fewer than asked, even when more follow).
    public var items: [Item]
    /// Where the next page starts, or `nil` when this page is the last.
    public var next: IndexCursor?
}

/// Lists that stream from the indexes, and abbreviated ids.
extension SetupLinkService {
    /// Which index answers a tenant/product filter, with which key prefix, and
    /// whether a row must still be checked for an exact product.
    private static func plan(kind: String, tenant: String?, product: String?) -> (index: String, prefix: String) {
        let sep = IndexSpec.separator
        if let tenant {
            // Links are keyed tenant␀product (no trailing separator), directories tenant␀product␀name.
            if let product { return ("\(kind).tenant", tenant + sep + product + (kind == "directory" ? sep : "")) }
            return ("\(kind).tenant", tenant + sep)
        }
        if let product { return ("\(kind).product", product + sep) }
        return ("\(kind).tenant", "")
    }

    /// One page of live links, in tenant then product order (as UTF-8 bytes), optionally filtered.
    ///
    /// Answered from the `link.tenant` index (or `link.product` when only the product is
    /// given): the cost is the page's, whatever the size of the replica, so a long list
    /// can be shown as it is read. Filters are trimmed like the values they match.
    public func linkPage(tenant: String? = nil, product: String? = nil, after cursor: IndexCursor? = nil,
                         limit: Int = 500) throws -> ListPage<SetupLink> {
        let tenant = try tenant.map { try Validation.tenantOrProduct($0, what: "tenant") }
        let product = try product.map { try Validation.tenantOrProduct($0, what: "product") }
        let (index, prefix) = Self.plan(kind: "link", tenant: tenant, product: product)
        let entries = try store.scan(index, prefix: prefix, after: cursor, limit: limit)
        var items: [SetupLink] = []
        items.reserveCapacity(entries.count)
        for e in entries {
            guard let l = SetupLink(e.record) else { continue }
            // `tenant␀crm` also starts `tenant␀crm2`.
            if let product, l.product != product { continue }
            items.append(l)
        }
        return ListPage(items: items, next: entries.count == limit ? entries.last?.cursor : nil)
    }

    /// Live links, sorted by tenant then product (as UTF-8 bytes), optionally filtered;
    /// answered from the indexes, page by page.
    public func links(tenant: String? = nil, product: String? = nil) throws -> [SetupLink] {
        try Self.allPages { try linkPage(tenant: tenant, product: product, after: $0, limit: 1000) }
    }

    /// One page of live directories, in tenant, product, name order (as UTF-8 bytes), optionally
    /// filtered; answered from the `directory.tenant` index (or `directory.product`).
    public func directoryPage(tenant: String? = nil, product: String? = nil, after cursor: IndexCursor? = nil,
                              limit: Int = 500) throws -> ListPage<Directory> {
        let tenant = try tenant.map { try Validation.tenantOrProduct($0, what: "tenant") }
        let product = try product.map { try Validation.tenantOrProduct($0, what: "product") }
        let (index, prefix) = Self.plan(kind: "directory", tenant: tenant, product: product)
        let entries = try store.scan(index, prefix: prefix, after: cursor, limit: limit)
        let items = entries.compactMap { Directory($0.record) }
        return ListPage(items: items, next: entries.count == limit ? entries.last?.cursor : nil)
    }

    /// Live directories, sorted by tenant, product, name (as UTF-8 bytes), optionally filtered.
    public func directories(tenant: String? = nil, product: String? = nil) throws -> [Directory] {
        try Self.allPages { try directoryPage(tenant: tenant, product: product, after: $0, limit: 1000) }
    }

    /// Every item of a paged list: `page` is asked from the start, then after each page's cursor.
    private static func allPages<T>(_ page: (IndexCursor?) throws -> ListPage<T>) throws -> [T] {
        var out: [T] = []
        var cursor: IndexCursor?
        repeat {
            let p = try page(cursor)
            out += p.items
            cursor = p.next
        } while cursor != nil
        return out
    }

    // MARK: Abbreviated ids

    /// How many ids an abbreviation is checked against (enough to show the ambiguity).
    static let prefixProbe = 32

    /// The full id of the live link that `typed` (a whole id or any unique prefix of one,
    /// in any case) names, as git resolves abbreviated commit ids.
    ///
    /// - Throws: `unknownLink` when no live link id starts with it, `ambiguousID` with
    ///   the candidates when several do.
    public func resolveLinkID(_ typed: String) throws -> String {
        try resolveID(typed, kind: .link, noun: "link", unknown: SetupLinkError.unknownLink(typed))
    }

    /// The full id of the live directory that `typed` (a whole id or a unique prefix) names, on any tenant.
    ///
    /// - Throws: `noDirectory` or `ambiguousID`.
    public func resolveDirectoryID(_ typed: String) throws -> String {
        try resolveID(typed, kind: .directory, noun: "directory", unknown: SetupLinkError.noDirectory(typed))
    }

    /// The live record of `kind` whose id is `typed` or starts with it (any case);
    /// `unknown` when none does, `ambiguousID` (naming it `noun`) when several do.
    private func resolveID(_ typed: String, kind: RecordKind, noun: String, unknown: SetupLinkError) throws -> String {
        let t = Validation.trimmed(typed).lowercased()
        guard !t.isEmpty else { throw unknown }
        if let r = try store.record(id: t), r.kind == kind, r.isLive { return t }
        let ids = try store.ids(kind: kind, prefix: t, limit: Self.prefixProbe)
        switch ids.count {
        case 0: throw unknown
        case 1: return ids[0]
        default: throw SetupLinkError.ambiguousID(kind: noun, prefix: t, candidates: ids)
        }
    }

    /// Ids of live records of `kind` that start with `prefix` (for completion), at most `limit`.
    public func idCompletions(kind: RecordKind, prefix: String, limit: Int = 100) throws -> [String] {
        try store.ids(kind: kind, prefix: prefix.lowercased(), limit: limit)
    }
}
