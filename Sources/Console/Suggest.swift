/// The candidate a mistyped `word` most likely meant, for "did you mean …?" hints.
///
/// Comparison ignores case. A candidate that starts with `word` wins over any
/// other (`cre` → `create`); among several such, the shortest, then the first
/// in `candidates`. Otherwise the candidate at the smallest Damerau–Levenshtein
/// distance (optimal string alignment: a swap of two neighbours counts as one
/// edit, so `lnik` → `link` and `lsit` → `list` are one edit away) wins, ties
/// going to the first in `candidates`.
///
/// A candidate is only offered when it is close enough: within `maxDistance`
/// edits, by default `max(2, word.count / 3)`, and never when every character
/// would have to change (so `ab` does not suggest `id`).
///
/// - Returns: The best candidate, spelled as in `candidates`, or `nil` when
///   `word` is empty or nothing is close.
public func closestMatch(to word: String, in candidates: [String], maxDistance: Int? = nil) -> String? {
    let typed = Array(word.lowercased())
    guard !typed.isEmpty else { return nil }

    var bestPrefix: String?
    for candidate in candidates where candidate.lowercased().hasPrefix(word.lowercased()) {
        if bestPrefix == nil || candidate.count < bestPrefix!.count { bestPrefix = candidate }
    }
    if let bestPrefix { return bestPrefix }

    let limit = maxDistance ?? max(2, typed.count / 3)
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let other = Array(candidate.lowercased())
        let distance = editDistance(typed, other)
        guard distance <= limit, distance < max(typed.count, other.count) else { continue }
        if best == nil || distance < best!.distance { best = (candidate, distance) }
    }
    return best?.candidate
}

/// The Damerau–Levenshtein distance (optimal string alignment) between two character sequences.
///
/// Counts insertions, deletions, substitutions and swaps of adjacent characters.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    // Three rolling rows: the swap rule looks two rows back.
    var beforePrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var row = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        row[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                row[j] = min(row[j], beforePrevious[j - 2] + 1)
            }
        }
        (beforePrevious, previous, row) = (previous, row, beforePrevious)
    }
    return previous[b.count]
}
