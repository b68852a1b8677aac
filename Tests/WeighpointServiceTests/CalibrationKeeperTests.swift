import WeighpointTOML
import WeighpointCrypto
import Foundation
import Logging
import PropertyBased
import Testing
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence
import WeighpointService

@Suite struct CalibrationFileTests {
    @Test func theCanonicalTextParsesBackToTheSameProfile() async {
        // Random profiles: any mix of cells, factors and an optional tolerance.
        let gen = Gen.int(in: 0...1_000_000).array(of: 0...12)
        await propertyCheck(count: 200, input: gen, Gen.int(in: -1...2000)) { seeds, tol in
            var p = CalibrationProfile()
            for s in seeds {
                let speed = s % 3 == 0 ? nil : (s / 3 % 20) * 5
                let axles = s % 5 < 2 ? nil : AxleConfiguration(groups: [[1, 1], [1, 2], [1, 2, 3], [1, 1, 1, 3]][s / 7 % 4])
                p.factors[CalibrationCell(lane: 1 + s % 2, speedFromKmh: speed, axles: axles)] = CalibrationFactor(tenThousandths: 8_000 + s % 4_001)
            }
            if tol >= 0 { p.tolerance = Tolerance(percentHundredths: tol, kg: tol % 7 * 50) }
            let text = CalibrationFile.render(p)
            #expect(throws: Never.self) {
                let back = try CalibrationFile.parse(text, file: "p.toml", lanes: [1, 2])
                #expect(back == p)
                #expect(CalibrationFile.render(back) == text, "one profile, one text, one hash")
            }
        }
    }

    @Test func mistakesAreReportedWithLineAndKey() {
        let text = """
            [profile]
            format = "weighpoint.calibration/1"
            speed_band_kmh = 5

            [[factor]]
            lane = 1
            factor = 1.25

            [[factor]]
            lane = 3
            speed_kmh = "42-47"
            axles = "1+x"
            factor = 0.98765

            [[factor]]
            lane = 2
            factr = 1.0
            """
        do {
            _ = try CalibrationFile.parse(text, file: "cal.toml", lanes: [1, 2])
            Issue.record("a broken profile parsed")
        } catch {
            let d = error.problems.map(\.description)
            #expect(d == [
                "cal.toml:7: factor[0].factor: 1.25 is outside 0.8…1.2",
                "cal.toml:10: factor[1].lane: lane 3 is not one of the station's lanes [1, 2]",
                "cal.toml:11: factor[1].speed_kmh: '42-47' is not a 5 km/h band starting at a multiple of 5, e.g. \"40-45\"",
                "cal.toml:12: factor[1].axles: '1+x' is not axles per group joined by +, e.g. \"1+2+3\"",
                "cal.toml:13: factor[1].factor: at most four decimals",
                "cal.toml:15: factor[2].factor: missing",
                "cal.toml:17: factor[2].factr: unknown key (known here: axles, factor, lane, speed_kmh)",
            ], "\(d)")
        }
    }

    @Test func aCellTwiceIsAMistake() {
        let text = "[profile]\nformat = \"weighpoint.calibration/1\"\n[[factor]]\nlane = 1\nfactor = 1.0\n[[factor]]\nlane = 1\nfactor = 0.99\n"
        #expect(throws: ConfigError.self) { try CalibrationFile.parse(text, file: "c", lanes: [1]) }
    }
}

@Suite struct TechnicianFileTests {
    let good = PINHash(pin: "135790", iterations: PINHash.minimumIterations)

    @Test func technicians() throws {
        let t = try TechnicianFile.parse("[[technician]]\nname = \"wang.fang\"\nfull_name = \"王芳\"\npin = \"\(good)\"\n", file: "t.toml")
        #expect(t.map(\.name) == ["wang.fang"] && t[0].fullName == "王芳")
        #expect(t[0].pin.matches("135790") && !t[0].pin.matches("135791"))
    }

    @Test func mistakes() {
        let weak = "pbkdf2-sha256$1000$" + Data(repeating: 1, count: 16).base64EncodedString() + "$" + Data(repeating: 2, count: 32).base64EncodedString()
        let text = """
            [[technician]]
            name = "li"
            pin = "135790"

            [[technician]]
            name = "li"
            pin = "\(weak)"

            [[technician]]
            name = "status"
            pin = "\(good)"

            [[technician]]
            name = "zhang san"
            pin = "\(good)"
            """
        do {
            _ = try TechnicianFile.parse(text, file: "t.toml")
            Issue.record("accepted")
        } catch {
            let d = error.problems.map(\.description)
            #expect(d.count == 5, "\(d)")
            #expect(d[0].hasPrefix("t.toml:3: technician[0].pin: not a PIN hash"), "a PIN in clear is refused: \(d[0])")
            #expect(d[1] == "t.toml:6: technician[1].name: technician 'li' is listed twice")
            #expect(d[2] == "t.toml:7: technician[1].pin: 1000 iterations is too few (at least 10000)")
            #expect(d[3] == "t.toml:10: technician[2].name: 'status' is a console command; choose another name")
            #expect(d[4].hasPrefix("t.toml:14: technician[3].name: 'zhang san' is not a name"))
        }
    }

    @Test func theConsoleSectionOfTheStationConfiguration() throws {
        let f = try ConfigFixture()
        try "[[technician]]\nname = \"li\"\npin = \"\(good)\"\n".write(toFile: f.dir + "/technicians.toml", atomically: true, encoding: .utf8)
        var l = f.lines + ["[console]", #"port = "/dev/ttyUSB0""#, "baud = 9600", #"framing = "7E1""#, #"flow_control = "rtscts""#,
                           #"technicians = "technicians.toml""#, "status_before_login = true", "idle_logout_s = 300"]
        let c = try f.parse(l)
        #expect(c.console?.port == "/dev/ttyUSB0")
        #expect(c.console?.serial == SerialSettings(baud: 9600, dataBits: 7, parity: .even, stopBits: 1, flowControl: .rtscts))
        #expect(c.console?.settings.technicians.map(\.name) == ["li"])
        #expect(c.console?.settings.statusBeforeLogin == true && c.console?.settings.idleLogoutSeconds == 300)
        #expect(c.calibrationProfile == f.dir + "/data/calibration.toml")
        l[l.count - 5] = #"framing = "9N1""#
        l[l.count - 3] = #"technicians = "nobody.toml""#
        do {
            _ = try f.parse(l)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.key) == ["console.framing", "console.technicians"], "\(error.problems)")
            #expect(error.problems.last?.message == "technicians file \(f.dir)/nobody.toml does not exist")
        }
    }
}

@Suite struct CalibrationKeeperTests {
    func store(_ dir: String, auditCapacity: Int = 100) throws -> EvidenceStore {
        let key = try SigningKey.generate(.ed25519)
        let id = UnitIdentity(deviceID: "WP-K", station: [:], instrument: [:], calibrationProfileSHA256: String(repeating: "0", count: 64), softwareVersion: "t", softwareSHA256: String(repeating: "1", count: 64))
        return try EvidenceStore(directory: dir, key: key, identity: id, auditCapacity: auditCapacity)
    }

    func sha(_ path: String) throws -> String { try Digest.hexDigest(ofFileAt: path) }

    @Test func changesAreAuditedWrittenArchivedAndSwapped() throws {
        let dir = NSTemporaryDirectory() + "wp-keeper-\(UUID().uuidString)"
        let s = try store(dir)
        let k = try CalibrationKeeper(path: dir + "/calibration.toml", store: s, lanes: [1, 2], logger: Logger(label: "t"))
        let first = k.snapshot.sha256
        #expect(try sha(dir + "/calibration.toml") == first)
        #expect(try s.auditEntries().map(\.event).suffix(1) == ["calibration_created"])
        var p = CalibrationProfile()
        p.factors[CalibrationCell(lane: 1)] = CalibrationFactor(tenThousandths: 9_800)
        let change = ParameterChange(parameter: "calibration factor lane 1, all speeds, all axle configurations", old: "none", new: "0.9800")
        let new = try k.change(to: p, changes: [change], by: "li", reference: nil, at: ClockState.now())
        #expect(try sha(dir + "/calibration.toml") == new)
        #expect(try sha(dir + "/calibration/\(new).toml") == new)
        #expect(try sha(dir + "/calibration/\(first).toml") == first, "the old profile stays findable")
        #expect(k.snapshot.profile == p)
        let audit = try s.auditEntries(last: 2)
        #expect(audit.map(\.event) == ["calibration_change", "calibration_profile"])
        #expect(audit[1].json?["old"]?.stringValue == "sha256:\(first)" && audit[1].json?["new"]?.stringValue == "sha256:\(new)")
        #expect(audit[0].json?["who"]?.stringValue == "li")
        // A weighing now gets the factor, and carries the profile.
        let w = k.apply(to: Weighing(seq: 1, lane: 1, time: Timestamp(microseconds: 0), speedKmh: 50, body: .rigid, driveAxles: 1, axles: [Axle(kg: 10_000, tyres: .dual)], groups: [1]))
        #expect(w.axles[0].kg == 9_800 && w.calibration?.profileSHA256 == new)
        #expect(EvidenceStore.verifyDirectory(dir).isEmpty, "the audit chain verifies")
    }

    @Test func aFullAuditTrailRefusesTheChangeAndNothingIsWritten() throws {
        let dir = NSTemporaryDirectory() + "wp-keeper-\(UUID().uuidString)"
        let s = try store(dir, auditCapacity: 3)  // start, key? and calibration_created take the room
        let k = try CalibrationKeeper(path: dir + "/calibration.toml", store: s, lanes: [1], logger: Logger(label: "t"))
        let before = try sha(dir + "/calibration.toml")
        while (try? s.appendAudit(event: "filler", who: "t", parameter: "p", old: nil, new: nil)) != nil {}
        var p = CalibrationProfile()
        p.tolerance = Tolerance(percentHundredths: 300, kg: 0)
        #expect(throws: StoreError.self) {
            try k.change(to: p, changes: [ParameterChange(parameter: "tolerance", old: "0% + 0 kg", new: "3% + 0 kg")], by: "li", reference: nil, at: ClockState.now())
        }
        #expect(try sha(dir + "/calibration.toml") == before)
        #expect(k.snapshot.sha256 == before && k.snapshot.profile.tolerance == nil)
    }

    @Test func anEditBehindTheUnitsBackIsRecordedAtTheNextStart() throws {
        let dir = NSTemporaryDirectory() + "wp-keeper-\(UUID().uuidString)"
        let path = dir + "/calibration.toml"
        do {
            let s = try store(dir)
            _ = try CalibrationKeeper(path: path, store: s, lanes: [1], logger: Logger(label: "t"))
        }
        let old = try sha(path)
        try (String(contentsOfFile: path, encoding: .utf8) + "\n[[factor]]\nlane = 1\nfactor = 1.02\n").write(toFile: path, atomically: true, encoding: .utf8)
        let s = try store(dir)
        let k = try CalibrationKeeper(path: path, store: s, lanes: [1], logger: Logger(label: "t"))
        let last = try s.auditEntries(last: 1)[0].json
        #expect(last?["event"]?.stringValue == "calibration_change" && last?["who"]?.stringValue == "file")
        #expect(last?["old"]?.stringValue == "sha256:\(old)" && last?["new"]?.stringValue == "sha256:\(k.snapshot.sha256)")
        #expect(k.snapshot.profile.factors[CalibrationCell(lane: 1)] == CalibrationFactor(tenThousandths: 10_200))
        // Another start with the same file records nothing new.
        let count = try s.auditEntries().count
        _ = try CalibrationKeeper(path: path, store: s, lanes: [1], logger: Logger(label: "t"))
        #expect(try s.auditEntries().count == count)
    }
}

@Suite struct CalibrationMaterialTests {
    /// The example in Calibration/ is what the unit writes: it parses, and renders to itself.
    @Test func theExampleProfileIsCanonical() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/Calibration/example-profile.toml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let p = try CalibrationFile.parse(text, file: path, lanes: [1, 2])
        #expect(p.factors.count == 5 && p.tolerance == Tolerance(percentHundredths: 500, kg: 0))
        #expect(CalibrationFile.render(p) == text)
        #expect(p.lookup(lane: 1, speedKmh: 62, axles: AxleConfiguration(groups: [1, 2, 3])).factor == CalibrationFactor(tenThousandths: 9741))
        #expect(p.lookup(lane: 1, speedKmh: 62, axles: AxleConfiguration(groups: [1, 1])).factor == CalibrationFactor(tenThousandths: 9768))
        #expect(p.lookup(lane: 1, speedKmh: 50, axles: AxleConfiguration(groups: [1, 1])).factor == CalibrationFactor(tenThousandths: 9712))
    }
}
