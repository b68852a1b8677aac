import WeighpointTOML
import WeighpointCrypto
import Foundation
import WeighpointConsole

/// The technicians allowed on the console, a TOML file kept apart from the station configuration
/// (readable only by the unit): one `[[technician]]` per person with `name`, `pin` (a hash from
/// `weighpoint console hash-pin`, never the PIN) and optionally `full_name`.
public enum TechnicianFile {
    public static func parse(_ text: String, file: String) throws(ConfigError) -> [Technician] {
        let r = ConfigReader(file: file, text: text)
        let root = r.root(text)
        guard root.table != nil else { throw ConfigError(problems: r.problems) }
        root.rejectUnknown(["technician"])
        var out: [Technician] = []
        var seen: Set<String> = []
        let entries = root.sections("technician")
        if entries.isEmpty { r.problem("technician", "no [[technician]] entries: nobody could log in") }
        for t in entries {
            t.rejectUnknown(["name", "pin", "full_name"])
            guard let name = t.string("name") else { continue }
            guard Technician.isValidName(name) else {
                r.problem(t.key("name"), "'\(name)' is not a name of 1-32 ASCII letters, digits, '.', '_' or '-'")
                continue
            }
            if ConsoleSession.reservedNames.contains(name) { r.problem(t.key("name"), "'\(name)' is a console command; choose another name") }
            if !seen.insert(name).inserted { r.problem(t.key("name"), "technician '\(name)' is listed twice") }
            guard let text = t.string("pin") else { continue }
            do {
                out.append(Technician(name: name, pin: try PINHash(parsing: text), fullName: t.string("full_name", required: false)))
            } catch {
                r.problem(t.key("pin"), error.description)
            }
        }
        if !r.problems.isEmpty { throw ConfigError(problems: r.problems) }
        return out
    }

    public static func load(_ path: String) throws(ConfigError) -> [Technician] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(problems: [ConfigProblem(file: path, line: nil, key: "-", message: "cannot read the technicians file")])
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }
}
