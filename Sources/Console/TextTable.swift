import Bytes
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
    /// The widest a cell may be, in terminal columns; longer cells end in `…`. `nil`: no limit.
    public var maxCellWidth: Int?
    /// Whether the last column is left whole (an error message at the end of the line: cutting
    /// it would hide the useful part, and nothing follows it to misalign).
    public var wholeLastColumn = false
    /// Decorates a data cell's text after the widths are measured (colour), by column.
    public var style: (@Sendable (_ column: Int, _ cell: String) -> String)?

    /// Creates a table.
    public init(headers: [String], rows: [[String]] = [], underline: Bool = false, alignments: [Alignment] = [],
                maxCellWidth: Int? = nil) {
        self.headers = headers
        self.rows = rows
        self.underline = underline
        self.alignments = alignments
        self.maxCellWidth = maxCellWidth
    }

    /// Appends a data row.
    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    private var columnCount: Int { max(headers.count, rows.map(\.count).max() ?? 0) }

    /// A row's cells, one per column: flattened to one line and cut to ``maxCellWidth``.
    private func cells(_ row: [String], count: Int) -> [String] {
        (0..<count).map { column in
            let cell = column < row.count ? flattened(row[column]) : ""
            guard let limit = maxCellWidth, !(wholeLastColumn && column == count - 1) else { return cell }
            return truncated(cell, to: limit)
        }
    }

    /// Each column's width: its widest cell (header included), in terminal columns.
    public func columnWidths() -> [Int] {
        let count = columnCount
        var widths = cells(headers, count: count).map(displayWidth)
        for row in rows {
            for (column, cell) in cells(row, count: count).enumerated() { widths[column] = max(widths[column], displayWidth(cell)) }
        }
        return widths
    }

    /// The table as lines joined by `\n`, without a final newline.
    public func render() -> String {
        guard columnCount > 0 else { return "" }
        let widths = columnWidths()
        var lines = [headerLine(widths: widths)]
        if underline {
            lines.append(trimmingTrailingSpaces(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")))
        }
        lines += rows.map { line($0, widths: widths, styled: true) }
        return lines.joined(separator: "\n")
    }

    /// The header line laid out in `widths` (for a table printed in parts, see ``rowLines(widths:)``).
    public func headerLine(widths: [Int]) -> String { line(headers, widths: widths, styled: false) }

    /// The data rows laid out in `widths`, decided earlier (a table streamed page by page keeps
    /// the widths of its first page); a cell wider than its column is cut with `…`.
    public func rowLines(widths: [Int]) -> [String] { rows.map { line($0, widths: widths, styled: true) } }

    private func line(_ row: [String], widths: [Int], styled: Bool) -> String {
        var text = ""
        for (column, raw) in cells(row, count: widths.count).enumerated() {
            if column > 0 { text += "  " }
            let cell = displayWidth(raw) > widths[column] ? truncated(raw, to: widths[column]) : raw
            let padding = String(repeating: " ", count: max(0, widths[column] - displayWidth(cell)))
            let shown = styled ? style.map { $0(column, cell) } ?? cell : cell
            let alignment = column < alignments.count ? alignments[column] : .left
            text += alignment == .left ? shown + padding : padding + shown
        }
        return trimmingTrailingSpaces(text)
    }
}

/// `text` cut to at most `width` terminal columns, ending in `…` when cut.
public func truncated(_ text: String, to width: Int) -> String {
    guard displayWidth(text) > width else { return text }
    guard width > 1 else { return width == 1 ? "…" : "" }
    var out = ""
    var used = 0
    for ch in text {
        let w = displayWidth(String(ch))
        if used + w > width - 1 { break }
        out.append(ch)
        used += w
    }
    return out + "…"
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
    // Printable ASCII is one column a byte: the common case, and a list of 100,000 rows measures every cell.
    if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text.utf8.count }
    return text.reduce(0) { $0 + width(of: $1) }
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

/// A cell on one line: tabs and line breaks become spaces, other control
/// characters are escaped (`ControlEscaping`: a cell may hold a name an identity
/// provider sent).
private func flattened(_ cell: String) -> String {
    if cell.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return cell }
    guard cell.unicodeScalars.contains(where: ControlEscaping.isEscaped) else { return cell }
    let spaced = String(cell.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    return ControlEscaping.escape(spaced)
}

/// `text` without the spaces at its end.
private func trimmingTrailingSpaces(_ text: String) -> String {
    var text = Substring(text)
    while text.last == " " { text.removeLast() }
    return String(text)
}
