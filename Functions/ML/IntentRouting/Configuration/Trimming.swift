extension String {
    /// Without leading and trailing Unicode white space (newlines included). Foundation's
    /// `trimmingCharacters(in:)` goes through NSString on Linux: it was a sixth of a 100-action
    /// catalog reload, for seeds that are nearly always already trimmed.
    var trimmedWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }
}
