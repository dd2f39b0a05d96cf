/// A plain-text table for the terminal: a header row and left-aligned columns.
///
/// ```
/// ID  Tenant  Product  Valid till  Status
/// 1   acme    crm      2025-07-01  active
/// ```
/// Each column is as wide as its widest cell, measured in terminal columns
/// (see ``displayWidth(_:)``); columns are separated by two spaces and no line
/// ends in a space. Rows with fewer cells than the header get empty cells;
/// extra cells make extra, header-less columns. Tabs and line breaks inside a
/// cell are shown as spaces so that one row stays one line.
public struct TextTable: Sendable {
    /// How a column's cells sit within its width.
    public enum Alignment: Sendable {
        /// Padded on the right (text).
        case left
        /// Padded on the left (numbers).
        case right
    }

    /// The column titles.
    public var headers: [String]
    /// The data rows, one array of cells each.
    public var rows: [[String]]
    /// Whether a row of dashes, as wide as each column, follows the header.
    public var underline: Bool
    /// Per-column alignment; columns beyond this array are left-aligned.
    public var alignments: [Alignment]

    /// Creates a table.
    public init(headers: [String], rows: [[String]] = [], underline: Bool = false, alignments: [Alignment] = []) {
        self.headers = headers
        self.rows = rows
        self.underline = underline
        self.alignments = alignments
    }

    /// Appends a data row.
    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table as lines joined by `\n`, without a final newline.
    public func render() -> String {
        let columnCount = max(headers.count, rows.map(\.count).max() ?? 0)
        guard columnCount > 0 else { return "" }
        func cells(_ row: [String]) -> [String] {
            (0..<columnCount).map { $0 < row.count ? flattened(row[$0]) : "" }
        }
        let header = cells(headers)
        let body = rows.map(cells)
        var widths = header.map(displayWidth)
        for row in body {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], displayWidth(cell)) }
        }

        func line(_ row: [String]) -> String {
            var text = ""
            for (column, cell) in row.enumerated() {
                if column > 0 { text += "  " }
                let padding = String(repeating: " ", count: widths[column] - displayWidth(cell))
                let alignment = column < alignments.count ? alignments[column] : .left
                text += alignment == .left ? cell + padding : padding + cell
            }
            return trimmingTrailingSpaces(text)
        }

        var lines = [line(header)]
        if underline {
            lines.append(trimmingTrailingSpaces(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")))
        }
        lines += body.map(line)
        return lines.joined(separator: "\n")
    }
}

/// An info section: an optional title line, then one `Label  value` line per row.
///
/// ```
/// Setup link
/// ID             4f1c…
/// SCIM Endpoint  https://example.com/scim/v2
/// ```
/// Labels are padded to the widest label plus two spaces; a multi-line value
/// continues under the value column. An empty title is left out. Lines are
/// joined by `\n`, without a final newline, and no line ends in a space.
public func renderSection(title: String, rows: [(String, String)]) -> String {
    let labels = rows.map { flattened($0.0) }
    let width = labels.map(displayWidth).max() ?? 0
    var lines: [String] = title.isEmpty ? [] : [title]
    for (label, (_, value)) in zip(labels, rows) {
        let valueLines = value.split(separator: "\n", omittingEmptySubsequences: false)
        let pad = String(repeating: " ", count: width - displayWidth(label) + 2)
        lines.append(trimmingTrailingSpaces(label + pad + (valueLines.first.map(String.init) ?? "")))
        for continuation in valueLines.dropFirst() {
            lines.append(trimmingTrailingSpaces(String(repeating: " ", count: width + 2) + continuation))
        }
    }
    return lines.joined(separator: "\n")
}

/// How many terminal columns `text` takes, approximately.
///
/// Counts grapheme clusters (so `é` written as `e` + combining accent is one),
/// with two columns for East Asian wide and fullwidth characters and for emoji
/// shown as pictures, and none for clusters made only of controls, format
/// characters or combining marks. Terminals differ on a few emoji; this is
/// the common case.
public func displayWidth(_ text: String) -> Int {
    text.reduce(0) { $0 + width(of: $1) }
}

/// The terminal columns one grapheme cluster takes.
private func width(of character: Character) -> Int {
    let scalars = character.unicodeScalars
    let visible = scalars.filter { scalar in
        switch scalar.properties.generalCategory {
        case .control, .format, .nonspacingMark, .enclosingMark: false
        default: true
        }
    }
    guard let first = visible.first else { return 0 }
    if scalars.contains("\u{FE0F}") || first.properties.isEmojiPresentation || isWide(first) { return 2 }
    return 1
}

/// Whether a scalar is East Asian wide or fullwidth (the main blocks, not the full table).
private func isWide(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
         0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
         0xFFE0...0xFFE6, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
        true
    default:
        false
    }
}

/// A cell on one line: tabs and line breaks become spaces.
private func flattened(_ cell: String) -> String {
    guard cell.contains(where: { $0 == "\t" || $0.isNewline }) else { return cell }
    return String(cell.map { $0 == "\t" || $0.isNewline ? " " : $0 })
}

/// `text` without the spaces at its end.
private func trimmingTrailingSpaces(_ text: String) -> String {
    var text = Substring(text)
    while text.last == " " { text.removeLast() }
    return String(text)
}
