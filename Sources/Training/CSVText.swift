/// Comma-separated text as spreadsheets and `pandas.read_csv` read it (RFC 4180): a field holding a
/// comma, a double quote or a line break is enclosed in double quotes, with its quotes doubled.
public enum CSVText {
    /// `text` as one CSV field, quoted only when it needs to be.
    public static func field(_ text: String) -> String {
        text.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// One CSV line (with its line break) of `fields`, each quoted as needed.
    public static func row(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\n" }
}
