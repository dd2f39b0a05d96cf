/// How a tenant connects a directory in its identity provider: short steps that use the
/// provider's own names for the fields (Okta's "SCIM connector base URL", Entra ID's
/// "Tenant URL"), and a link to the provider's documentation. Shown on the setup page
/// under each directory and by `directory new` in the REPL.
public struct ProviderGuide: Sendable, Equatable {
    /// The provider, as the steps name it (`Okta`, `Microsoft Entra ID`).
    public var provider: String
    /// The provider's name for the field that takes the SCIM endpoint.
    public var endpointField: String
    /// The provider's name for the field that takes the SCIM token.
    public var tokenField: String
    /// The steps, in order: plain sentences.
    public var steps: [String]
    /// The provider's documentation of this setting.
    public var documentation: String
}

extension DirectoryType {
    /// The steps to connect a directory of this type, or `nil` for a type without SCIM (Google).
    public var guide: ProviderGuide? {
        switch self {
        case .okta:
            return ProviderGuide(
                provider: "Okta", endpointField: "SCIM connector base URL", tokenField: "Authorization",
                steps: [
                    "In the Okta Admin Console, open your app integration; on its General tab, enable SCIM provisioning.",
                    "On the Provisioning tab, paste the SCIM endpoint into “SCIM connector base URL” and enter userName as the “Unique identifier field for users”.",
                    "Choose “HTTP Header” as the Authentication Mode and paste the SCIM token into “Authorization” (a Bearer token).",
                    "Turn on Push New Users, Push Profile Updates and Push Groups, then Test Connector Configuration and Save.",
                ],
                documentation: "https://help.okta.com/en-us/content/topics/apps/apps_app_integration_wizard_scim.htm")
        case .azure:
            return ProviderGuide(
                provider: "Microsoft Entra ID", endpointField: "Tenant URL", tokenField: "Secret Token",
                steps: [
                    "In the Microsoft Entra admin center, open your enterprise application, then Provisioning; set the Provisioning Mode to Automatic.",
                    "Under Admin Credentials, paste the SCIM endpoint into “Tenant URL” and the SCIM token into “Secret Token”.",
                    "Select Test Connection and Save, then assign users and groups and start provisioning.",
                ],
                documentation: "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups")
        case .onelogin:
            return ProviderGuide(
                provider: "OneLogin", endpointField: "SCIM Base URL", tokenField: "SCIM Bearer Token",
                steps: [
                    "In OneLogin, open your SCIM Provisioner app (SCIM v2 Enterprise) and its Configuration tab.",
                    "Paste the SCIM endpoint into “SCIM Base URL” and the SCIM token into “SCIM Bearer Token”, then enable the API connection.",
                    "On the Provisioning tab, turn on provisioning and save.",
                ],
                documentation: "https://developers.onelogin.com/scim")
        case .jumpcloud:
            return ProviderGuide(
                provider: "JumpCloud", endpointField: "Base URL", tokenField: "Token Key",
                steps: [
                    "In JumpCloud, open your SSO application's Identity Management tab and choose SCIM 2.0.",
                    "Paste the SCIM endpoint into “Base URL” and the SCIM token into “Token Key”; enter a “Test User Email”.",
                    "Select Test Connection, then Activate and Save; add the user groups to sync on the User Groups tab.",
                ],
                documentation: "https://jumpcloud.com/support/scim-integrations")
        case .generic:
            return ProviderGuide(
                provider: "your identity provider", endpointField: "SCIM base URL", tokenField: "bearer token",
                steps: [
                    "In your identity provider's SCIM 2.0 provisioning settings, use the SCIM endpoint as the “SCIM base URL”.",
                    "Authenticate with the SCIM token as a “bearer token” (the header Authorization: Bearer followed by the token).",
                    "Provision users and groups: the endpoint serves /Users and /Groups as SCIM 2.0 (RFC 7644) defines them.",
                ],
                documentation: "https://datatracker.ietf.org/doc/html/rfc7644")
        case .google:
            return nil
        }
    }
}
