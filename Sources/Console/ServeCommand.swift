import Foundation

/// `setuplink serve`: serves the replica to peers.
enum ServeCommand {
    static func run(options: SetupLinkCLI.Options, arguments: [String]) -> Int32 {
        SetupLinkCLI.printError("serve is not wired yet")
        return 1
    }
}
