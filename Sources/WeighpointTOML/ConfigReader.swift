// WeighpointTOML owns reading TOML files (TOMLKit underneath): one collecting reader that names
// file, line and key for every problem, so the station configuration, calibration files,
// technician files and WIM register maps all report errors the same way. It may import only
// TOMLKit.
import TOMLKit

/// One problem in a configuration file: where (file, line, key) and what.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String
    public let message: String
    public var description: String { "\(file):\(line.map(String.init) ?? "-"): \(key): \(message)" }

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }
}

/// The configuration could not be used; every problem found is listed, not just the first.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigProblem]
    /// Problems in file and line order.
    public init(problems: [ConfigProblem]) {
        self.problems = problems.enumerated().sorted { a, b in
            (a.element.file, a.element.line ?? 0, a.offset) < (b.element.file, b.element.line ?? 0, b.offset)
        }.map(\.element)
    }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Line numbers of keys in TOML text, by full key path (`cameras[1].lane`, `wim.profile`).
/// TOMLKit does not expose where a key was written, so the text is scanned: table headers,
/// arrays of tables (counted) and `key =` lines. A key without its own line (an inline table's
/// member) gets the line of the nearest enclosing key or table found.
public struct TOMLKeyLines {
    private var lines: [String: Int] = [:]

    public init(_ text: String) {
        var current = ""
        var arrayCounts: [String: Int] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmed(" \t\r")
            let n = i + 1
            if line.hasPrefix("[[") , let end = line.range(of: "]]") {
                let name = String(line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]).trimmed(" \t")
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                current = "\(name)[\(index)]"
                lines[current] = n
                lines[name] = lines[name] ?? n
            } else if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                current = String(line[line.index(after: line.startIndex)..<end]).trimmed(" \t")
                lines[current] = n
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                var key = String(line[..<eq]).trimmed(" \t")
                if key.hasPrefix("\"") && key.hasSuffix("\"") && key.count >= 2 { key = String(key.dropFirst().dropLast()) }
                guard !key.isEmpty else { continue }
                lines[current.isEmpty ? key : "\(current).\(key)"] = n
            }
        }
    }

    /// The line of `key`, or of its nearest ancestor that has one.
    public func line(of key: String) -> Int? {
        var k = key
        while true {
            if let n = lines[k] { return n }
            guard let cut = k.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            k = String(k[..<cut])
        }
    }
}

extension String {
    fileprivate func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

/// Collects problems while reading typed values; a missing or wrong value yields nil and a
/// problem naming its key and line, so one pass reports everything wrong with a file.
public final class ConfigReader {
    public let file: String
    public let lines: TOMLKeyLines
    public private(set) var problems: [ConfigProblem] = []

    public init(file: String, text: String) {
        self.file = file
        self.lines = TOMLKeyLines(text)
    }

    public func problem(_ key: String, _ message: String) {
        problems.append(ConfigProblem(file: file, line: lines.line(of: key), key: key, message: message))
    }

    /// Problems found in a file this one names (a technicians file, a profile).
    public func add(_ other: [ConfigProblem]) { problems += other }

    /// A section: a table at `key` of `parent`.
    public struct Section {
        public let table: TOMLTable?
        public let path: String
        public let reader: ConfigReader

        public init(table: TOMLTable?, path: String, reader: ConfigReader) {
            self.table = table
            self.path = path
            self.reader = reader
        }

        public func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
        public func has(_ k: String) -> Bool { table?.contains(key: k) ?? false }
        /// The keys present, in the file's order.
        public var keys: [String] { table?.keys ?? [] }

        /// Keys present that the reader does not know: a misspelt key must not be ignored silently.
        public func rejectUnknown(_ known: Set<String>) {
            for k in table?.keys ?? [] where !known.contains(k) {
                reader.problem(key(k), "unknown key (known here: \(known.sorted().joined(separator: ", ")))")
            }
        }

        public func section(_ k: String, required: Bool = true) -> Section {
            guard let v = table?[k] else {
                if required && table != nil { reader.problem(key(k), "missing table") }
                return Section(table: nil, path: key(k), reader: reader)
            }
            guard let t = v.table else {
                reader.problem(key(k), "must be a table")
                return Section(table: nil, path: key(k), reader: reader)
            }
            return Section(table: t, path: key(k), reader: reader)
        }

        public func sections(_ k: String) -> [Section] {
            guard let v = table?[k] else { return [] }
            guard let a = v.array else {
                reader.problem(key(k), "must be an array of tables ([[\(key(k))]])")
                return []
            }
            return a.enumerated().compactMap { i, item in
                guard let t = item.table else {
                    reader.problem("\(key(k))[\(i)]", "must be a table")
                    return nil
                }
                return Section(table: t, path: "\(key(k))[\(i)]", reader: reader)
            }
        }

        /// The value at `k` converted by `convert`; a missing required key or a value of the
        /// wrong type is a problem named with `what`.
        private func typed<T>(_ k: String, required: Bool, what: String, _ convert: (TOMLValueConvertible) -> T?) -> T? {
            guard let v = table?[k] else {
                if required && table != nil { reader.problem(key(k), "missing") }
                return nil
            }
            guard let t = convert(v) else {
                reader.problem(key(k), "must be \(what)")
                return nil
            }
            return t
        }

        private func within<T: Comparable>(_ k: String, _ v: T?, _ range: ClosedRange<T>) -> T? {
            guard let v else { return nil }
            guard range.contains(v) else {
                reader.problem(key(k), "\(v) is outside \(range.lowerBound)…\(range.upperBound)")
                return nil
            }
            return v
        }

        public func string(_ k: String, required: Bool = true) -> String? {
            typed(k, required: required, what: "a string") { $0.string }
        }

        public func strings(_ k: String) -> [String]? {
            typed(k, required: false, what: "an array of strings") { v in
                guard let a = v.array, a.allSatisfy({ $0.string != nil }) else { return nil }
                return a.map { $0.string! }
            }
        }

        public func bool(_ k: String, required: Bool = true) -> Bool? {
            typed(k, required: required, what: "true or false") { $0.bool }
        }

        public func int(_ k: String, in range: ClosedRange<Int>, required: Bool = true) -> Int? {
            within(k, typed(k, required: required, what: "an integer") { $0.int }, range)
        }

        public func double(_ k: String, in range: ClosedRange<Double>, required: Bool = true) -> Double? {
            within(k, typed(k, required: required, what: "a number") { $0.double ?? $0.int.map(Double.init) }, range)
        }

        public func oneOf(_ k: String, _ allowed: [String], required: Bool = true) -> String? {
            guard let s = string(k, required: required) else { return nil }
            guard allowed.contains(s) else {
                reader.problem(key(k), "'\(s)' is not one of \(allowed.joined(separator: ", "))")
                return nil
            }
            return s
        }
    }

    public func root(_ text: String) -> Section {
        let headers = HeaderCheck.problems(text)
        guard headers.isEmpty else {
            for h in headers { problems.append(ConfigProblem(file: file, line: h.line, key: "-", message: "TOML syntax: \(h.message)")) }
            return Section(table: nil, path: "", reader: self)
        }
        do {
            return Section(table: try TOMLTable(string: text), path: "", reader: self)
        } catch let e as TOMLParseError {
            problems.append(ConfigProblem(file: file, line: e.source.begin.line, key: "-", message: "TOML syntax, column \(e.source.begin.column): \(e.description)"))
        } catch {
            problems.append(ConfigProblem(file: file, line: nil, key: "-", message: "\(error)"))
        }
        return Section(table: nil, path: "", reader: self)
    }
}
