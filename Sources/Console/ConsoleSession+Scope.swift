import SetupLinks

/// The scope commands act in: the admin view (any link, any directory), or the open
/// setup page (that page's directories only, also for their users, groups and events).
extension ConsoleSession {
    /// The open setup page, or `no setup page is open`.
    func requirePage() throws -> TenantPage {
        guard let page else { throw SetupLinkError.noPageOpen }
        return page
    }

    /// The directory `typed` (an id or a unique prefix) names: on the open page only that
    /// page's, else any, also after its link was deleted.
    func directory(_ typed: String) throws -> Directory {
        if let page { return try page.directory(id: typed) }
        return try service.directory(id: typed)
    }
}
