import Replica

/// What a positional argument names, for TAB completion.
enum ArgumentKind: Equatable, Sendable {
    /// An id of a record of this kind.
    case record(RecordKind)
    /// A peer name.
    case peer
    /// A command (for `help`).
    case command
}

/// One positional argument as help, completion and parsing see it.
struct ArgumentSpec: Sendable, Equatable {
    /// How many words it takes.
    enum Arity: Sendable, Equatable {
        /// One word, needed: `ID`.
        case required
        /// One word, or none: `[KEY]`.
        case optional
        /// The rest of the line as one value, or none: `help link create`.
        case rest
    }

    /// The placeholder, e.g. `ID` or `NAME|URL`.
    let placeholder: String
    /// How many words it takes.
    let arity: Arity
    /// What TAB offers for it, or `nil` for nothing.
    let completion: ArgumentKind?

    /// `ID`, or `[KEY]` when it may be left out.
    var usage: String { arity == .required ? placeholder : "[\(placeholder)]" }
}

/// A positional argument of any value type, for a command's list of arguments.
protocol CommandArgument: Sendable {
    /// What help, completion and parsing know of it.
    var spec: ArgumentSpec { get }
}

/// A positional argument a command reads as `Value`: `String` when required,
/// `String?` when it may be left out.
///
/// ```swift
/// private static let id = Argument.required("ID", completes: .record(.link))
/// private let id: String       // in init: id = input[Self.id]
/// ```
struct Argument<Value>: CommandArgument {
    /// What help, completion and parsing know of it.
    let spec: ArgumentSpec
    // How the value is read from the word given, or `nil` when none was.
    private let read: @Sendable (String?) -> Value

    fileprivate init(_ spec: ArgumentSpec, read: @escaping @Sendable (String?) -> Value) {
        self.spec = spec
        self.read = read
    }

    /// The argument's value given the word typed for it, or `nil` when none was.
    func value(from raw: String?) -> Value { read(raw) }
}

extension Argument where Value == String {
    /// An argument the command needs: parsing fails without it.
    static func required(_ placeholder: String, completes kind: ArgumentKind? = nil) -> Self {
        Argument(ArgumentSpec(placeholder: placeholder, arity: .required, completion: kind)) { $0 ?? "" }
    }
}

extension Argument where Value == String? {
    /// An argument that may be left out; it follows the required ones.
    static func optional(_ placeholder: String, completes kind: ArgumentKind? = nil) -> Self {
        Argument(ArgumentSpec(placeholder: placeholder, arity: .optional, completion: kind)) { $0 }
    }

    /// The words left on the line, joined by single spaces, or `nil` when there are none; it comes last.
    static func rest(_ placeholder: String, completes kind: ArgumentKind? = nil) -> Self {
        Argument(ArgumentSpec(placeholder: placeholder, arity: .rest, completion: kind)) { $0 }
    }
}
