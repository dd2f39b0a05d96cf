/// One flag as help, completion, parsing and the history see it, whatever its value's type.
struct FlagSpec: Sendable, Equatable {
    /// The flag with its dashes, e.g. `--tenant`.
    let name: String
    /// The placeholder of its value (`T`), or `nil` for a switch like `--yes`.
    let value: String?
    /// Whether the command needs it.
    let required: Bool
    /// Whether its value is a secret: the history keeps `REDACTED` in its place.
    let secret: Bool
    /// One line of help.
    let help: String

    /// `--tenant T`, or `--yes` for a switch.
    var usage: String { value.map { "\(name) \($0)" } ?? name }
}

/// A flag of any value type, for a command's list of flags.
protocol CommandFlag: Sendable {
    /// What help, completion and parsing know of it.
    var spec: FlagSpec { get }
}

/// A flag whose value a command reads as `Value`: `String?` for an optional flag,
/// `String` for a required one, `Bool` for a switch.
///
/// ```swift
/// private static let tenant = Flag.required("--tenant", "T", "the tenant")
/// private let tenant: String   // in init: tenant = input[Self.tenant]
/// ```
struct Flag<Value>: CommandFlag {
    /// What help, completion and parsing know of it.
    let spec: FlagSpec
    // How the value is read from what was given: the raw value, or `nil` when the flag is absent.
    private let read: @Sendable (String?) -> Value

    fileprivate init(_ spec: FlagSpec, read: @escaping @Sendable (String?) -> Value) {
        self.spec = spec
        self.read = read
    }

    /// The flag's value given `raw`, the text typed after it (`""` for a switch), or `nil` when it was not given.
    func value(from raw: String?) -> Value { read(raw) }
}

extension Flag where Value == String? {
    /// An optional flag that takes a value: `--name N`.
    static func option(_ name: String, _ placeholder: String, secret: Bool = false, _ help: String) -> Self {
        Flag(FlagSpec(name: name, value: placeholder, required: false, secret: secret, help: help)) { $0 }
    }
}

extension Flag where Value == String {
    /// A flag the command needs: parsing fails without it, so reading it always finds a value.
    static func required(_ name: String, _ placeholder: String, secret: Bool = false, _ help: String) -> Self {
        Flag(FlagSpec(name: name, value: placeholder, required: true, secret: secret, help: help)) { $0 ?? "" }
    }
}

extension Flag where Value == Bool {
    /// A switch without a value: `--regenerate`.
    static func toggle(_ name: String, _ help: String) -> Self {
        Flag(FlagSpec(name: name, value: nil, required: false, secret: false, help: help)) { $0 != nil }
    }

    /// The `--yes` switch of the commands that ask first.
    static var yes: Self { toggle("--yes", "skip the confirmation question") }
}
