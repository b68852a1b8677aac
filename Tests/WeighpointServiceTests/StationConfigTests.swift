import WeighpointTOML
import WeighpointCrypto
import Foundation
import Testing
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointRecognition
import WeighpointService
import WeighpointTesting

/// A directory with a signing key, a permit file and a watch list, and a valid configuration.
struct ConfigFixture {
    let dir: String
    init() throws {
        dir = NSTemporaryDirectory() + "wp-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try SigningKey.generate(.ed25519).write(to: dir + "/key")
        try "苏A12345,55000,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z\n".write(toFile: dir + "/permits.csv", atomically: true, encoding: .utf8)
        try "苏E99999\n".write(toFile: dir + "/blacklist.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/frames", withIntermediateDirectories: true)
    }

    /// The valid configuration, line by line (tests replace lines to break it).
    var lines: [String] {
        """
        [station]
        code = "T-1"
        device_id = "WP-T1"
        site_type = "fixed"

        [[lanes]]
        number = 1

        [[lanes]]
        number = 2

        [wim]
        profile = "generic-wim-v1"
        transport = "tcp://127.0.0.1:1502"
        model = "sim"
        serial = "S1"
        accuracy_class = "5"

        [[cameras]]
        id = "front-1"
        lane = 1
        role = "front"
        distance_m = 12.0
        replay = "frames"

        [[cameras]]
        id = "rear-2"
        lane = 2
        role = "rear"
        distance_m = 2.0
        device = "/dev/video7"
        format = ["yuyv"]
        fps = 10

        [http]
        listen = "127.0.0.1:0"

        [rules]
        tolerance_percent = 2.5
        permits = "permits.csv"

        [[rules.watch_lists]]
        name = "blacklist"
        file = "blacklist.txt"

        [storage]
        data = "data"

        [signing]
        key = "key/key.pem"
        """.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    func parse(_ lines: [String]) throws(ConfigError) -> StationConfig {
        try StationConfig.parse(lines.joined(separator: "\n"), file: dir + "/station.toml")
    }

    /// The problems of the configuration with line `n` (1-based) replaced by `text`.
    func problems(replacing n: Int, with text: String) -> [ConfigProblem] {
        var l = lines
        l[n - 1] = text
        do {
            _ = try parse(l)
            return []
        } catch {
            return error.problems
        }
    }
}

@Suite struct StationConfigTests {
    @Test func theValidConfigurationLoadsWithItsValues() throws {
        let f = try ConfigFixture()
        let c = try f.parse(f.lines)
        #expect(c.station.deviceID == "WP-T1")
        #expect(c.lanes.map(\.number) == [1, 2])
        #expect(c.wim.transport == .tcp(host: "127.0.0.1", port: 1502))
        #expect(c.cameras.map(\.id) == ["front-1", "rear-2"])
        #expect(c.cameras[0].source == .replay(directory: f.dir + "/frames", fps: 25))
        #expect(c.cameras[1].source == .device("/dev/video7"))
        #expect(c.cameras[1].formats == [.yuyv] && c.cameras[1].fps == 10)
        #expect(c.rules.tolerance == Tolerance(percentHundredths: 250, kg: 0))
        #expect(c.rules.permitsFile == f.dir + "/permits.csv")
        #expect(c.storage.data == f.dir + "/data")
        #expect(c.caseSystem == nil)
    }

    /// Every pushed read needs a credential: a camera that pushes without one, a credential in
    /// a form the unit cannot use, a certificate credential without the CA it chains to, and a
    /// pushing camera without the TLS listener are each an error naming the camera and key.
    @Test func pushedReadsNeedACredentialAndTheTLSListener() throws {
        let f = try ConfigFixture()
        // Real certificate and key files: the check loads them as the listener will.
        let pki = try TestPKI()
        for (from, to) in [(pki.serverCert, "unit.pem"), (pki.serverKey, "unit.key"), (pki.ca, "cameras-ca.pem")] {
            try FileManager.default.copyItem(atPath: from, toPath: f.dir + "/" + to)
        }
        let token = PushCredential.configured(token: "a token")
        let tls = [#"tls_listen = "0.0.0.0:8443""#, #"tls_certificate = "unit.pem""#, #"tls_key = "unit.key""#]
        func problems(camera: [String], http: [String] = []) -> [String] {
            var l = f.lines
            l.insert(contentsOf: http, at: 36)  // after [http] listen
            l.insert(contentsOf: camera, at: 24)  // front-1, after replay
            do {
                _ = try f.parse(l)
                return []
            } catch { return error.problems.map { "\($0.key): \($0.message)" } }
        }
        let none = problems(camera: [#"plates = "pushed""#])
        #expect(none.contains { $0.hasPrefix("cameras[0].plates: camera 'front-1' takes pushed plate reads but has no credentials") }, "\(none)")
        #expect(none.contains { $0.hasPrefix("http.tls_listen: camera 'front-1' takes pushed plate reads, which are taken only over TLS") }, "\(none)")
        #expect(problems(camera: [#"plates = "pushed""#, "credentials = []"], http: tls) == ["cameras[0].credentials: camera 'front-1': at least one credential is needed for pushed reads"])
        let bad = problems(camera: [#"plates = "pushed""#, #"credentials = ["certificate:12AB", "password:x", "token:zz"]"#], http: tls)
        #expect(bad.count == 3 && bad.allSatisfy { $0.hasPrefix("cameras[0].credentials: camera 'front-1': ") }, "\(bad)")
        let noCA = problems(camera: [#"plates = "pushed""#, #"credentials = ["subject:CN=anpr-front-1"]"#], http: tls)
        #expect(noCA == ["http.tls_client_ca: camera 'front-1' has a certificate credential: give tls_client_ca, the CA its client certificate chains to"], "\(noCA)")
        #expect(problems(camera: [#"credentials = ["\#(token)"]"#], http: tls).contains("cameras[0].credentials: camera 'front-1': credentials are for plates = \"pushed\""))
        #expect(problems(camera: [], http: tls).first?.hasPrefix("http.tls_listen: no camera has plates = \"pushed\"") == true)

        // A token for front-1, and a certificate by fingerprint (colons as openssl prints them).
        var l = f.lines
        l.insert(contentsOf: tls + [#"tls_client_ca = "cameras-ca.pem""#], at: 36)
        let fingerprint = (0..<32).map { String(format: "%02X", $0) }.joined(separator: ":")
        l.insert(contentsOf: [#"plates = "pushed""#, #"credentials = ["\#(token)", "certificate:\#(fingerprint)"]"#], at: 24)
        let c = try f.parse(l)
        #expect(c.cameras[0].credentials == [.token(sha256: String(token.dropFirst(6)).uppercased()), .certificate(sha256: fingerprint.replacingOccurrences(of: ":", with: ""))])
        #expect(c.tlsListener?.listen == "0.0.0.0:8443" && c.tlsListener?.clientCA == f.dir + "/cameras-ca.pem")
        #expect(c.cameras[1].plates == .none && c.cameras[1].credentials.isEmpty)
        // Files that are not what they are named as are problems of the check, not of the start.
        try "not a certificate".write(toFile: f.dir + "/cameras-ca.pem", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: f.dir + "/unit.key")
        let material = problems(camera: [#"plates = "pushed""#, #"credentials = ["\#(token)"]"#], http: tls + [#"tls_client_ca = "cameras-ca.pem""#])
        #expect(material.contains { $0.hasPrefix("http.tls_client_ca: \(f.dir)/cameras-ca.pem ") } && material.contains { $0.hasPrefix("http.tls_key: \(f.dir)/unit.key can be read by everyone (mode 644)") }, "\(material)")
        // A key that is not the certificate's: found by the check, which makes the TLS context.
        try FileManager.default.removeItem(atPath: f.dir + "/cameras-ca.pem")
        try FileManager.default.copyItem(atPath: pki.ca, toPath: f.dir + "/cameras-ca.pem")
        try FileManager.default.removeItem(atPath: f.dir + "/unit.key")
        try FileManager.default.copyItem(atPath: pki.clientKey, toPath: f.dir + "/unit.key")
        let mismatch = problems(camera: [#"plates = "pushed""#, #"credentials = ["\#(token)"]"#], http: tls + [#"tls_client_ca = "cameras-ca.pem""#])
        #expect(mismatch.count == 1 && mismatch[0].hasPrefix("http.tls_key: \(f.dir)/unit.key with \(f.dir)/unit.pem and \(f.dir)/cameras-ca.pem: the TLS listener cannot be made"), "\(mismatch)")
        // Without a listen key the plain listener is on loopback.
        #expect(try f.parse(f.lines.filter { !$0.hasPrefix("listen") }).httpListen == "127.0.0.1:8080")
    }

    /// What the daemon would stumble on at start is a problem of the check already: an empty
    /// listen address, a permit row, a watch list's line, a public key or one that others can read given as the
    /// signing key; and a table header toml++ would abort on is a FILE:LINE problem.
    @Test func theCheckFindsWhatStartUpWouldFailOn() throws {
        let f = try ConfigFixture()
        func messages(_ lines: [String]) -> [String] {
            do {
                _ = try f.parse(lines)
                return []
            } catch { return error.problems.map { "\($0.line.map(String.init) ?? "-"): \($0.key): \($0.message)" } }
        }
        #expect(messages(f.lines.map { $0.hasPrefix("listen") ? #"listen = """# : $0 }) == ["36: http.listen: '' is not host:port (the plain listener for /health and /metrics; leave the key out for 127.0.0.1:8080)"])
        for header in ["[[#factor]]", "[.x]", "[[[x]]", "[ #x]", "[ "] {
            #expect(messages(f.lines + [header]).first?.hasPrefix("\(f.lines.count + 1): -: TOML syntax: table header: a key") == true, "\(header)")
        }
        // A header-like line inside a multi-line string or a nested array is not a header.
        #expect(messages(f.lines + ["[recognizer]", #"models = """"#, "[#not a header]", #"""""#, "detect_sides = [", "  800,", "]"]).allSatisfy { !$0.contains("table header") })

        // [wim] keys the daemon reads are checked as it will read them, none replaced by a default.
        let wim = messages(f.lines.flatMap { $0 == #"accuracy_class = "5""# ? [$0, #"unit_id = "nine""#, "response_timeout_ms = -7", "poll_interval_ms = 0", #"certificate_valid_until = "soon""#] : [$0] })
        for want in ["wim.unit_id: must be an integer", "wim.response_timeout_ms: -7 is outside 10…60000", "wim.poll_interval_ms: 0 is outside 5…10000", "wim.certificate_valid_until: 'soon' is not a date (YYYY-MM-DD)"] {
            #expect(wim.contains { $0.hasSuffix(want) }, "\(want) not in \(wim)")
        }

        try "苏A12345,55000,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z\n苏B12345,heavy,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z\n".write(toFile: f.dir + "/permits.csv", atomically: true, encoding: .utf8)
        #expect(messages(f.lines) == ["2: permit: max_gross_kg 'heavy' is not a mass in kg"])
        try "苏A12345,55000,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z\n".write(toFile: f.dir + "/permits.csv", atomically: true, encoding: .utf8)
        // A watch list's line that is not a plate (before, a count in the start log, and nobody watched for it).
        try "# stolen\n苏E99999\nSU-E-1234\n".write(toFile: f.dir + "/blacklist.txt", atomically: true, encoding: .utf8)
        let watch = messages(f.lines)
        #expect(watch.count == 1 && watch[0].hasPrefix("3: watch list: ") && watch[0].hasSuffix("not a plate (correct the line or make it a # comment)"), "\(watch)")
        try "苏E99999\n".write(toFile: f.dir + "/blacklist.txt", atomically: true, encoding: .utf8)

        #expect(messages(f.lines.map { $0 == #"key = "key/key.pem""# ? #"key = "key/pub.pem""# : $0 }).contains { $0.contains("pub.pem is a public key: the unit signs with the private key") })
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: f.dir + "/key/key.pem")
        #expect(messages(f.lines).contains { $0.contains("key.pem can be read by everyone (mode 644): run chmod 600 ") })
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: f.dir + "/key/key.pem")
        #expect(messages(f.lines).contains { $0.contains("key.pem can be read by its group (mode 640)") })
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: f.dir + "/key/key.pem")
        #expect(messages(f.lines).isEmpty)
    }

    /// No key is read after the check or silently replaced by a default: every key of the
    /// example configuration (which shows them all), given a value of the wrong kind, is a
    /// problem on its own line.
    @Test func everyKeyOfTheExampleIsCheckedNoneDefaulted() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Hardware/station.example.toml").standardized.path
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var unchecked: [String] = []
        var keys = 0
        for (i, line) in lines.enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard !t.hasPrefix("#"), !t.hasPrefix("["), let eq = t.firstIndex(of: "=") else { continue }
            let key = t[..<eq].trimmingCharacters(in: .whitespaces)
            keys += 1
            var l = lines
            l[i] = "\(key) = { wrong = 1 }"
            do {
                _ = try StationConfig.parse(l.joined(separator: "\n"), file: path)
                unchecked.append("\(i + 1): \(key) (accepted)")
            } catch {
                if !error.problems.contains(where: { $0.line == i + 1 }) { unchecked.append("\(i + 1): \(key)") }
            }
        }
        #expect(keys > 60 && unchecked.isEmpty, "\(keys) keys; not reported on their line: \(unchecked)")
    }

    @Test func replayCamerasAreADevelopmentSourceTheDaemonRefuses() throws {
        let f = try ConfigFixture()
        let c = try f.parse(f.lines)
        // Line 24 is front-1's `replay = "frames"`; rear-2 is a device and is not named.
        #expect(c.replaySources.map(\.key) == ["cameras[0].replay"])
        #expect(c.replaySources.map(\.line) == [24])
        #expect(c.replaySourceProblem?.description.contains("station.toml:24: cameras[0].replay: camera 'front-1' replays JPEG files") == true)
        var l = f.lines
        l[23] = #"device = "/dev/video3""#
        #expect(try f.parse(l).replaySourceProblem == nil)

        // The shipped daemon stops on it; the development tool runs such a station.
        try f.lines.joined(separator: "\n").write(toFile: f.dir + "/station.toml", atomically: true, encoding: .utf8)
        let daemon = try runProcess(try builtTool("weighpointd"), ["--check-config", f.dir + "/station.toml"])
        #expect(daemon.status == 1)
        #expect(daemon.stderr.contains("station.toml:24: cameras[0].replay: camera 'front-1' replays JPEG files"), "\(daemon.stderr)")
        let dev = try runProcess(try weighpointDev(), ["unit", "--check-config", f.dir + "/station.toml"])
        #expect(dev.status == 0, "\(dev.stderr)")
        #expect(dev.stdout.contains("2 camera(s), 1 of them replays"))
    }

    @Test func eachKindOfMistakeIsReportedWithItsLineAndKey() throws {
        let f = try ConfigFixture()
        let cases: [(line: Int, text: String, key: String, says: String)] = [
            (5, #"devcie_id = "WP-T1""#, "station.devcie_id", "unknown key"),
            (14, #"transport = "tcp//127.0.0.1""#, "wim.transport", "is not tcp://HOST:PORT"),
            (17, #"accuracy_class = "3""#, "wim.accuracy_class", "not one of"),
            (21, "lane = 3", "cameras[0].lane", "not one of the configured lanes"),
            (22, #"role = "top""#, "cameras[0].role", "not one of"),
            (24, #"replay = "no-such-dir""#, "cameras[0].replay", "does not exist"),
            (32, #"format = ["h264"]"#, "cameras[1].format", "'h264' is not one of"),
            (33, "fps = 500", "cameras[1].fps", "outside"),
            (36, #"listen = "localhost""#, "http.listen", "not host:port"),
            (39, "tolerance_percent = \"5\"", "rules.tolerance_percent", "must be a number"),
            (44, #"file = "missing.txt""#, "rules.watch_lists[0].file", "does not exist"),
            (50, #"key = "key/nothing.pem""#, "signing.key", "cannot read"),
        ]
        for c in cases {
            let problems = f.problems(replacing: c.line, with: c.text)
            #expect(problems.count == 1, "line \(c.line) '\(c.text)': \(problems)")
            guard let p = problems.first else { continue }
            #expect(p.key == c.key, "\(p)")
            #expect(p.line == c.line, "\(p)")
            #expect(p.message.contains(c.says), "\(p)")
            #expect(p.description.hasPrefix(f.dir + "/station.toml:\(c.line): \(c.key): "))
        }
    }

    /// Parsing reads the files the configuration names only through its file source: with the
    /// directory's files in memory and the directory gone, the same configuration results, and a
    /// file missing from the source is a problem at its key.
    @Test func parsingReadsNamedFilesOnlyThroughItsFileSource() throws {
        let f = try ConfigFixture()
        let onDisk = try f.parse(f.lines)
        var files: [String: [UInt8]] = [:]
        var dirs: Set<String> = []
        for name in try FileManager.default.subpathsOfDirectory(atPath: f.dir) {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: f.dir + "/" + name, isDirectory: &isDir)
            if isDir.boolValue { dirs.insert(f.dir + "/" + name) } else { files[f.dir + "/" + name] = Array(FileManager.default.contents(atPath: f.dir + "/" + name)!) }
        }
        let map = try WIMProfile.locate("generic-wim-v1") { FileManager.default.fileExists(atPath: $0) }
        files[map] = Array(FileManager.default.contents(atPath: map)!)
        try FileManager.default.removeItem(atPath: f.dir)
        var memory = InMemoryConfigFiles(files, directories: dirs)
        let text = f.lines.joined(separator: "\n")
        let inMemory = try StationConfig.parse(text, file: f.dir + "/station.toml", files: memory)
        #expect(inMemory.wim.profile == onDisk.wim.profile && inMemory.signing.key == onDisk.signing.key && inMemory.rules.permitsFile == onDisk.rules.permitsFile)
        #expect(inMemory.cameras.map(\.id) == onDisk.cameras.map(\.id) && inMemory.storage.data == onDisk.storage.data)
        memory.files[f.dir + "/key/key.pem"] = nil
        do {
            _ = try StationConfig.parse(text, file: f.dir + "/station.toml", files: memory)
            Issue.record("parsed without its key")
        } catch {
            #expect(error.problems.map(\.key) == ["signing.key"] && error.problems.first?.line == 50, "\(error)")
        }
    }

    @Test func everyProblemIsListedInLineOrderNotJustTheFirst() throws {
        let f = try ConfigFixture()
        var l = f.lines
        l[1] = "# code removed"
        l[20] = "lane = 9"
        l[49] = #"key = "nope.pem""#
        do {
            _ = try f.parse(l)
            Issue.record("a broken configuration loaded")
        } catch {
            #expect(error.problems.map(\.key) == ["station.code", "cameras[0].lane", "signing.key"])
            #expect(error.problems.map(\.line) == [1, 21, 50])
        }
    }

    /// A register map named by path that is wrong: the configuration's key says so, and each of
    /// the map's own problems is listed at its line in the map's file.
    @Test func aBrokenRegisterMapListsItsOwnLines() throws {
        let f = try ConfigFixture()
        let generic = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Hardware/wim/generic-wim-v1.toml").standardized
        let map = try String(contentsOf: generic, encoding: .utf8).replacingOccurrences(of: "max_axles = 12", with: "max_axles = 40")
        try map.write(toFile: f.dir + "/map.toml", atomically: true, encoding: .utf8)
        let p = f.problems(replacing: 13, with: #"profile = "map.toml""#)
        #expect(p.first { $0.key == "wim.profile" }?.message.contains("the register map \(f.dir)/map.toml is not usable") == true, "\(p)")
        #expect(p.contains { $0.file == f.dir + "/map.toml" && $0.line == 13 && $0.key == "profile.max_axles" && $0.message.contains("outside 2…32") }, "\(p)")
    }

    @Test func syntaxErrorsNameTheirLine() throws {
        let f = try ConfigFixture()
        let p = f.problems(replacing: 13, with: "profile = \"generic-wim-v1")
        #expect(p.count == 1 && p.first?.line == 13, "\(p)")
    }

    @Test func aBadPermitLineStopsStartUpWithItsLineNumber() throws {
        let f = try ConfigFixture()
        try "# plate,max,from,until\n苏A12345,55000,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z\n苏A1,55000,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z\n"
            .write(toFile: f.dir + "/permits.csv", atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try PermitFile.read(f.dir + "/permits.csv") }
        do { _ = try PermitFile.read(f.dir + "/permits.csv") } catch {
            #expect(error.problems.map(\.line) == [3])
            #expect(error.problems.first?.message.contains("'苏A1' is not a plate") == true)
        }
    }

    @Test func transportsParseInTheFormTheyPrint() throws {
        for t: ModbusTransport in [.tcp(host: "10.0.0.5", port: 502), .rtu(device: "/dev/ttyS1", baud: 9600, parity: .even, dataBits: 8, stopBits: 1)] {
            #expect(try ModbusTransport.parse(t.description) == t)
        }
        for bad in ["tcp://host", "rtu:/dev/ttyS1", "rtu:/dev/ttyS1@9600-8X1", "udp://a:1", "tcp://:502"] {
            #expect(throws: TransportSyntaxError.self) { try ModbusTransport.parse(bad) }
        }
    }

    /// The intake at 2026-11-28T08:00:02Z of a unit with cameras front-1 and front-2.
    func intake(_ limits: PlateReadIntake.Limits = .init()) -> (PlateReadIntake, ManualClock) {
        let clock = ManualClock(Timestamp(rfc3339: "2026-11-28T08:00:02Z")!)
        return (PlateReadIntake(cameras: ["front-1", "front-2"], limits: limits, clock: clock), clock)
    }

    /// A sender authenticated for front-1 only.
    func sender(_ address: String = "local", cameras: Set<String> = ["front-1"]) -> ReadSender {
        ReadSender(credential: "token:0123456789abcdef", cameras: cameras, transport: "https-bearer-token", address: address)
    }

    func refusal(_ outcome: PlateReadIntake.Outcome) -> (status: Int, message: String)? {
        if case .refused(let status, _, let message) = outcome { return (status, message) }
        return nil
    }

    @Test func plateReadsAreCheckedFieldByField() {
        let (intake, _) = intake()
        let ok = intake.take(Array(#"[{"camera":"front-1","time":"2026-11-28T08:00:01.250Z","plate":"苏a12345","color":"yellow","confidence":0.9}]"#.utf8), from: sender())
        guard case .accepted(let reads) = ok else { Issue.record("refused: \(ok)"); return }
        #expect(reads.first?.normalized == "苏A12345" && reads.first?.text == "苏a12345")
        #expect(reads.first?.provenance == ReadProvenance(credential: "token:0123456789abcdef", transport: "https-bearer-token", address: "local"))
        // A credential posts for its own cameras only: another configured camera, or one that
        // is not configured, is 403 naming the read, the credential and what it may post for.
        for (camera, what) in [("front-2", "'front-2'"), ("side-9", "'side-9' (not a configured camera)")] {
            let r = refusal(intake.take(Array(#"[{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A12345","color":"blue"},{"camera":"\#(camera)","time":"2026-11-28T08:00:01Z","plate":"苏A12345","color":"yellow"}]"#.utf8), from: sender()))
            #expect(r?.status == 403 && r?.message == "read 1: camera: credential token:0123456789abcdef may post reads for front-1 only, not for \(what)", "\(String(describing: r))")
        }
        let bad: [(String, String)] = [
            (#"[{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A12345","color":"yellow"},{"camera":"front-1","time":"yesterday","plate":"苏A1","color":"blue"}]"#, "read 1: time:"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A12345","color":"purple"}"#, "read 0: color:"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A12345","color":"blue","confidence":1.5}"#, "read 0: confidence: 1.5 is outside"),
            ("not json", "body is not JSON: line 1, column 1: expected a value, found 'n'"),
            (#"{"camera":"front-1","plate":"苏A12345","plate":"苏B00000"}"#, "body is not JSON: line 1, column 39: key \"plate\" appears twice"),
            (String(repeating: "[", count: 50_000), "body is not JSON: line 1, column 17: nested deeper than 16 levels"),
            // Plate text is data, bounded: not blank, no control characters, 16 characters or 32 bytes at most.
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"   ","color":"blue"}"#, "read 0: plate: only whitespace"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"","color":"blue"}"#, "read 0: plate: empty"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A\u000012345","color":"blue"}"#, "read 0: plate: control character U+0"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A1\u200B2345","color":"blue"}"#, "read 0: plate: control character U+200B"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A1\u20282345","color":"blue"}"#, "read 0: plate: control character U+2028"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A1\uE0002345","color":"blue"}"#, "read 0: plate: control character U+E000"),
            ("{\"camera\":\"front-1\",\"time\":\"2026-11-28T08:00:01Z\",\"plate\":\"\(String(repeating: "A", count: 17))\",\"color\":\"blue\"}", "read 0: plate: 17 characters (17 bytes) is over 16"),
            ("{\"camera\":\"front-1\",\"time\":\"2026-11-28T08:00:01Z\",\"plate\":\"\(String(repeating: "苏", count: 11))\",\"color\":\"blue\"}", "read 0: plate: 11 characters (33 bytes) is over 16 characters or 32 bytes"),
            // Times the unit could not use: from the future beyond the skew, or older than any weighing it holds.
            (#"{"camera":"front-1","time":"2099-01-01T00:00:00Z","plate":"苏A12345","color":"blue"}"#, "read 0: time: 2099-01-01T00:00:00.000Z is ahead of the unit's clock"),
            (#"{"camera":"front-1","time":"2026-11-28T07:00:00Z","plate":"苏A12345","color":"blue"}"#, "read 0: time: 2026-11-28T07:00:00.000Z is more than 120 s old"),
            (#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A12345","color":"blue","lane":1}"#, "read 0: lane: unknown field"),
            ("[]", "no reads"),
            ("[" + Array(repeating: #"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A12345","color":"blue"}"#, count: 101).joined(separator: ",") + "]", "101 reads in one request is over 100"),
        ]
        for (body, message) in bad {
            guard let r = refusal(intake.take(Array(body.utf8), from: sender())) else { Issue.record("accepted: \(body.prefix(200))"); continue }
            #expect(r.status == 400 && r.message.hasPrefix(message), "\(r.message)")
        }
        // Invalid UTF-8 inside the plate string.
        let invalid = Array(#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"苏A"#.utf8) + [0xFF, 0xFE] + Array(#"","color":"blue"}"#.utf8)
        #expect(refusal(intake.take(invalid, from: sender()))?.message.contains("not valid UTF-8") == true)
        #expect(refusal(intake.take(Array(repeating: 0x20, count: 70_000), from: sender()))?.status == 413)
    }

    /// Above its rate a camera's reads get 429 and it is suspect for a minute; a second later it
    /// may send again. Refused reads are not counted against the rate.
    @Test func aCameraOverItsRateIsRefusedAndSuspect() {
        let (intake, clock) = intake()
        func read(_ plate: String) -> [UInt8] { Array(#"{"camera":"front-1","time":"2026-11-28T08:00:01Z","plate":"\#(plate)","color":"blue"}"#.utf8) }
        for i in 0..<5 {
            #expect(refusal(intake.take(read("苏A1234\(i)"), from: sender())) == nil)
            #expect(refusal(intake.take(read("   "), from: sender()))?.status == 400)
        }
        // Five taken, five refused as blank (not counted): the next good one is the sixth.
        let over = refusal(intake.take(read("苏A99999"), from: sender()))
        #expect(over?.status == 429 && over?.message.hasPrefix("camera 'front-1' from local: 6 reads in one second is over its 5") == true, "\(String(describing: over))")
        #expect(intake.suspects(at: clock.now()).mapValues(\.address) == ["front-1": "local"])
        // The allowance is per source address: a neighbour posting as front-1 uses up its own,
        // not the camera's.
        for i in 0..<6 { _ = intake.take(read("苏E6666\(i)"), from: sender("10.0.0.66")) }
        #expect(refusal(intake.take(read("苏E66669"), from: sender("10.0.0.66")))?.status == 429)
        #expect(refusal(intake.take(read("苏A55555"), from: sender("10.0.0.5"))) == nil, "the camera's own address was refused for the neighbour's reads")
        clock.advance(milliseconds: 1001)
        if case .refused(let status, _, let m) = intake.take(read("苏A99999"), from: sender()) { Issue.record("refused after a second: \(status) \(m)") }
        clock.advance(milliseconds: 60_000)
        #expect(intake.suspects(at: clock.now()).isEmpty)
    }

    @Test func metricsAreExposedInThePrometheusTextFormat() {
        let m = UnitMetrics()
        m.describe("weighpoint_decisions_total", "Decisions by kind.")
        m.add("weighpoint_decisions_total", [("decision", "overload")])
        m.add("weighpoint_decisions_total", [("decision", "ok")], 2)
        m.set("weighpoint_delivery_backlog", [], 3)
        m.raise("weighpoint_frames_captured_total", [("camera", "front-1")], to: 40)
        m.raise("weighpoint_frames_captured_total", [("camera", "front-1")], to: 65)
        m.observeCommit(.milliseconds(3))
        let text = m.render()
        #expect(text.contains("# HELP weighpoint_decisions_total Decisions by kind.\n# TYPE weighpoint_decisions_total counter\n"), "\(text)")
        #expect(text.contains("weighpoint_decisions_total{decision=\"ok\"} 2\n"), "\(text)")
        #expect(text.contains("weighpoint_decisions_total{decision=\"overload\"} 1\n"), "\(text)")
        #expect(text.contains("weighpoint_delivery_backlog 3"), "\(text)")
        #expect(text.contains("weighpoint_frames_captured_total{camera=\"front-1\"} 65\n"), "\(text)")
        #expect(text.contains("weighpoint_store_commit_seconds_bucket{le=\"0.005\"} 1"), "\(text)")
        #expect(m.value(UnitMetrics.series("weighpoint_decisions_total", [("decision", "ok")])) == 2)
    }
}

@Suite struct RecognizerConfigTests {
    @Test func aCameraReadsPlatesItselfWithTheRecognizersSettings() throws {
        let f = try ConfigFixture()
        var l = f.lines
        // front-1 (lines 19-24) reads its plates itself, in a region of interest.
        l.insert(contentsOf: [#"plates = "recognizer""#, "roi = [0, 300, 1280, 420]", "recognizer_frames = 4"], at: 24)
        let c = try f.parse(l + ["[recognizer]", "threshold = 0.7", "detect_sides = [640]", "fallback_sides = []", "edge_search = 0"])
        #expect(c.cameras[0].plates == .recognizer && c.cameras[1].plates == .none)
        #expect(c.cameras[0].roi == PlateBox(x: 0, y: 300, width: 1280, height: 420) && c.cameras[0].recognizerFrames == 4)
        #expect(c.recognizer?.threshold == 0.7 && c.recognizer?.detectSides == [640] && c.recognizer?.fallbackSides == [] && c.recognizer?.edgeSearch == 0)
        // Without a [recognizer] section the defaults apply; without recogniser cameras there is none.
        let d = try f.parse(Array(l))
        #expect(d.recognizer?.detectSides == [800] && d.recognizer?.fallbackSides == [960] && d.recognizer?.edgeSearch == 3 && d.recognizer?.threshold == 0.6)
        #expect(try f.parse(f.lines).recognizer == nil)
    }

    @Test func mistakesNameTheirKey() throws {
        let f = try ConfigFixture()
        var l = f.lines
        l.insert(contentsOf: [#"plates = "anpr""#, "roi = [0, 0, 10]"], at: 24)
        do {
            _ = try f.parse(l + ["[recognizer]", #"models = "no-models-here""#, "detect_sides = [20000]", "threshold = 2", "edge_search = 40"])
            Issue.record("accepted")
        } catch {
            let keys = error.problems.map(\.key)
            #expect(keys == ["cameras[0].plates", "cameras[0].roi", "recognizer.models", "recognizer.detect_sides", "recognizer.threshold", "recognizer.edge_search"], "\(error.problems)")
            #expect(error.problems[2].message.contains("install them with Scripts/install-models"))
        }
    }
}
