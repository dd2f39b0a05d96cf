import Console
import Foundation

// The executable only wires arguments to the console and returns its exit status.
exit(SetupLinkCLI.main(Array(CommandLine.arguments.dropFirst())))
