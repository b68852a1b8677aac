import Foundation
import Logging
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence
import WeighpointSystem
import WeighpointJSON

/// The console's failed logins and lock in the data directory (`console-lockout.json`), written
/// durably at every failure, so that restarting the unit or cutting its power gives a PIN
/// guesser no fresh attempts. A file that does not parse is reported and treated as no failures
/// (only someone with write access to the data directory could have made it so).
struct ConsoleLockoutFile {
    let path: String
    let log: Logger

    func load() -> ConsoleLockout {
        guard let bytes = FileManager.default.contents(atPath: path) else { return ConsoleLockout() }
        guard let v = parseJSON(Array(bytes)), let failures = v["failures"]?.intValue, failures >= 0 else {
            log.error("console lockout file unreadable: starting with no failed logins", metadata: ["file": "\(path)"])
            return ConsoleLockout()
        }
        return ConsoleLockout(failures: Int(failures), lockedUntil: v["locked_until"]?.stringValue.flatMap(Timestamp.init(rfc3339:)))
    }

    func save(_ l: ConsoleLockout) {
        let v: JSONValue = .object(["failures": .int(Int64(l.failures)), "locked_until": l.lockedUntil.map { .string("\($0)") } ?? .null])
        do {
            try durableWrite(v.canonicalBytes, to: path)
        } catch {
            log.error("console lockout not kept across a restart", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }
}
