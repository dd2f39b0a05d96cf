/// An error in the console layer, shown as `error: <description>`.
public enum ConsoleError: Error, CustomStringConvertible, Sendable {
    /// The command line itself is wrong.
    case usage(String)
    /// The command failed; the message says why.
    case failed(String)

    /// The sentence.
    public var description: String {
        switch self {
        case .usage(let s), .failed(let s): return s
        }
    }
}
