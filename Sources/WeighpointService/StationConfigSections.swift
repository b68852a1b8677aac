import WeighpointTOML
import WeighpointCrypto
import Foundation
import WeighpointHTTP
import WeighpointCapture
import WeighpointConsole
import WeighpointCore
import WeighpointSystem
import WeighpointEvidence
import WeighpointModbus
import WeighpointRecognition
import NIOSSL

/// One reader per section of station.toml. Each takes its section, reads and checks its keys
/// (every problem goes to the shared reader with its line and key) and returns its part of the
/// configuration; `StationConfig.parse` puts the parts together. Paths are relative to the
/// file's directory; the files they name are read through `files` only.
struct SectionParser {
    typealias Section = ConfigReader.Section
    let reader: ConfigReader
    let file: String
    let base: String
    let files: any ConfigFiles

    init(reader: ConfigReader, file: String, files: any ConfigFiles) {
        self.reader = reader
        self.file = file
        self.files = files
        base = URL(fileURLWithPath: file).deletingLastPathComponent().path
    }

    /// The text of a file the configuration names, or nil after saying at `key` that it cannot be read.
    func text(_ path: String, key: String, what: String) -> String? {
        guard let bytes = files.contents(path) else {
            reader.problem(key, files.exists(path) ? "cannot read \(what) \(path)" : "\(what) \(path) does not exist")
            return nil
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func resolve(_ p: String?) -> String? {
        guard let p else { return nil }
        return p.hasPrefix("/") ? p : base + "/" + p
    }

    func mustExist(_ p: String?, key: String, what: String) {
        guard let p else { return }
        if !files.exists(p) { reader.problem(key, "\(what) \(p) does not exist") }
    }

    /// [station]
    func station(_ s: Section) -> StationConfig.Station {
        s.rejectUnknown(["code", "device_id", "site_type", "name", "road", "stake", "direction", "latitude", "longitude"])
        let station = StationConfig.Station(
            code: s.string("code") ?? "", deviceID: s.string("device_id") ?? "", siteType: s.oneOf("site_type", ["fixed", "video"]) ?? "fixed",
            name: s.string("name", required: false), road: s.string("road", required: false), stake: s.string("stake", required: false),
            direction: s.string("direction", required: false),
            latitude: s.double("latitude", in: -90...90, required: false), longitude: s.double("longitude", in: -180...180, required: false))
        if let id = s.string("device_id", required: false), !DeviceID.isValid(id) {
            s.reader.problem(s.key("device_id"), "must be \(DeviceID.rule) (it names the device in every record and its directory at the case system)")
        }
        return station
    }

    /// [[lanes]]: at least one.
    func lanes(_ root: Section) -> [StationConfig.Lane] {
        let r = reader
        var lanes: [StationConfig.Lane] = []
        let laneSections = root.sections("lanes")
        if laneSections.isEmpty { r.problem("lanes", "at least one [[lanes]] entry is needed") }
        for l in laneSections {
            l.rejectUnknown(["number", "direction"])
            guard let n = l.int("number", in: 1...16) else { continue }
            if lanes.contains(where: { $0.number == n }) { r.problem(l.key("number"), "lane \(n) is configured twice") }
            lanes.append(StationConfig.Lane(number: n, direction: l.string("direction", required: false)))
        }
        return lanes
    }

    /// [wim]: the profile (a name in Hardware/wim or a path) and the transport.
    func wim(_ w: Section) -> StationConfig.WIM? {
        let r = reader
        w.rejectUnknown(["profile", "transport", "unit_id", "poll_interval_ms", "response_timeout_ms", "model", "serial", "accuracy_class", "certificate", "certificate_valid_until", "max_clock_ahead_s", "max_weighing_age_h", "max_sequence_resets_per_hour"])
        var profile: WIMProfile?
        if let name = w.string("profile") {
            do throws(WIMProfileError) {
                // A path (as WIMProfile.load tells one from a name) is relative to this file; a
                // name is looked up in the register-map directories.
                let path = WIMProfile.isPath(name) ? resolve(name)! : try WIMProfile.locate(name, exists: files.exists)
                guard let bytes = files.contents(path) else { throw WIMProfileError(file: path, message: files.exists(path) ? "cannot read the file" : "no such file") }
                profile = try WIMProfile.parse(String(decoding: bytes, as: UTF8.self), source: path)
            } catch {
                // Not found or unreadable: said at this key. Found but wrong: each problem at its
                // own line of the register map.
                if let only = error.problems.first, error.problems.count == 1, only.line == nil {
                    r.problem(w.key("profile"), only.message)
                } else {
                    r.problem(w.key("profile"), "the register map \(error.file) is not usable (\(error.problems.count) problems, listed under it)")
                    r.add(error.problems)
                }
            }
        }
        var transport: ModbusTransport?
        if let t = w.string("transport") {
            do { transport = try ModbusTransport.parse(t) } catch { r.problem(w.key("transport"), "\(error)") }
        }
        let accuracy = w.oneOf("accuracy_class", ["0.2", "0.5", "1", "2", "5", "7", "10", "15"])
        let wimModel = w.string("model"), wimSerial = w.string("serial")
        // The verification certificate's expiry is printed in every record: a date, or nothing.
        let validUntil = w.string("certificate_valid_until", required: false)
        if let v = validUntil, Timestamp(rfc3339: v + "T00:00:00Z") == nil || v.count != 10 {
            r.problem(w.key("certificate_valid_until"), "'\(v.prefix(40))' is not a date (YYYY-MM-DD)")
        }
        let ahead = w.int("max_clock_ahead_s", in: 1...86_400, required: false)
        let age = w.int("max_weighing_age_h", in: 1...8_760, required: false)
        let resets = w.int("max_sequence_resets_per_hour", in: 1...1_000, required: false)
        guard let profile, let transport else { return nil }
        var wim = StationConfig.WIM(
            profile: profile, transport: transport, unitID: w.int("unit_id", in: 0...247, required: false),
            pollIntervalMs: w.int("poll_interval_ms", in: 5...10_000, required: false) ?? 50,
            responseTimeoutMs: w.int("response_timeout_ms", in: 10...60_000, required: false) ?? 500,
            model: wimModel ?? "", serial: wimSerial ?? "", accuracyClass: accuracy ?? "",
            certificate: w.string("certificate", required: false), certificateValidUntil: w.string("certificate_valid_until", required: false))
        wim.maxClockAheadS = ahead ?? wim.maxClockAheadS
        wim.maxWeighingAgeH = age ?? wim.maxWeighingAgeH
        wim.maxSequenceResetsPerHour = resets ?? wim.maxSequenceResetsPerHour
        return wim
    }

    /// [[cameras]]; also where the file names replay (development) sources.
    func cameras(_ root: Section, lanes laneNumbers: Set<Int>) -> ([StationConfig.CameraConfig], [ConfigProblem]) {
        let r = reader
        var cameras: [StationConfig.CameraConfig] = []
        var replaySources: [ConfigProblem] = []
        for c in root.sections("cameras") {
            c.rejectUnknown(["id", "lane", "role", "distance_m", "device", "replay", "replay_fps", "format", "width", "height", "fps", "pre_window_s", "post_window_s", "jpeg_quality", "tolerance_ms", "plates", "credentials", "roi", "recognizer_frames"])
            let id = c.string("id") ?? ""
            if cameras.contains(where: { $0.id == id }) { r.problem(c.key("id"), "camera '\(id)' is configured twice") }
            let lane = c.int("lane", in: 1...16)
            if let lane, !laneNumbers.isEmpty, !laneNumbers.contains(lane) {
                r.problem(c.key("lane"), "lane \(lane) is not one of the configured lanes \(laneNumbers.sorted())")
            }
            let role = c.oneOf("role", CameraRole.allCases.map(\.rawValue)).flatMap(CameraRole.init(rawValue:))
            var source: StationConfig.CameraSource?
            switch (c.string("device", required: false), c.string("replay", required: false)) {
            case (let d?, nil): source = .device(d)
            case (nil, let dir?):
                let path = resolve(dir)!
                mustExist(path, key: c.key("replay"), what: "replay directory")
                source = .replay(directory: path, fps: c.double("replay_fps", in: 0.1...120, required: false) ?? 25)
                replaySources.append(ConfigProblem(
                    file: file, line: r.lines.line(of: c.key("replay")), key: c.key("replay"),
                    message: "camera '\(id)' replays JPEG files: a development source the unit does not run on (give device = a V4L2 path; weighpoint-dev unit runs a station on replay cameras)"))
            case (nil, nil): r.problem(c.key("device"), "give either device (a V4L2 path) or replay (a directory of JPEG frames)")
            case (_?, _?): r.problem(c.key("replay"), "give either device or replay, not both")
            }
            var formats: [PixelFormat] = [.mjpeg, .yuyv, .rgb24]
            if let names = c.strings("format") {
                formats = names.compactMap { n in
                    guard let f = PixelFormat(rawValue: n) else {
                        r.problem(c.key("format"), "'\(n)' is not one of mjpeg, yuyv, rgb24")
                        return nil
                    }
                    return f
                }
            }
            let plates = c.oneOf("plates", StationConfig.PlateSource.allCases.map(\.rawValue), required: false).flatMap(StationConfig.PlateSource.init(rawValue:)) ?? .none
            var credentials: [PushCredential] = []
            for text in c.strings("credentials") ?? [] {
                switch PushCredential.parse(text) {
                case .success(let cred): credentials.append(cred)
                case .failure(let why): r.problem(c.key("credentials"), "camera '\(id)': \(why)")
                }
            }
            switch (plates == .pushed, c.has("credentials")) {
            case (true, false):
                r.problem(c.key("plates"), "camera '\(id)' takes pushed plate reads but has no credentials: give credentials = [\"certificate:SHA256\" | \"subject:DN\" | \"token:SHA256\"] (weighpoint credential), since every pushed read needs one")
            case (true, true) where (c.strings("credentials") ?? []).isEmpty:
                r.problem(c.key("credentials"), "camera '\(id)': at least one credential is needed for pushed reads")
            case (false, true):
                r.problem(c.key("credentials"), "camera '\(id)': credentials are for plates = \"pushed\"")
            default: break
            }
            var roi: PlateBox?
            if c.has("roi") {
                let v = c.table?["roi"]?.array?.compactMap { $0.int } ?? []
                if v.count == 4, v[0] >= 0, v[1] >= 0, v[2] >= 32, v[3] >= 16 {
                    roi = PlateBox(x: v[0], y: v[1], width: v[2], height: v[3])
                } else {
                    r.problem(c.key("roi"), "must be [x, y, width, height] in pixels (width >= 32, height >= 16)")
                }
            }
            let pre = c.double("pre_window_s", in: 0...60, required: false) ?? 3
            let post = c.double("post_window_s", in: 0...60, required: false) ?? 3
            cameras.append(StationConfig.CameraConfig(
                id: id, lane: lane ?? 0, role: role ?? .front, distanceM: c.double("distance_m", in: -100...100) ?? 0, source: source ?? .device(""),
                formats: formats, width: c.int("width", in: 16...8192, required: false) ?? 1920, height: c.int("height", in: 16...8192, required: false) ?? 1080,
                fps: c.int("fps", in: 1...120, required: false) ?? 25, preWindowS: pre, postWindowS: post,
                jpegQuality: c.int("jpeg_quality", in: 1...100, required: false) ?? 85, toleranceMs: c.int("tolerance_ms", in: 1...10_000, required: false) ?? 500,
                plates: plates, credentials: credentials, roi: roi, recognizerFrames: c.int("recognizer_frames", in: 1...12, required: false) ?? 3))
        }
        return (cameras, replaySources)
    }

    /// [http] listen = "host:port", and what a pushed plate read may be: reads per second per
    /// camera (default 5) and how far ahead of the unit's clock its time may be (default 2000 ms).
    /// Connections: at most max_connections (256, and below the descriptor limit) in all and
    /// max_connections_per_address (32) from one address; a request head within header_timeout_s
    /// (10), the whole request within request_timeout_s (30).
    func http(_ http: Section) -> (String, PlateReadIntake.Limits, ConnectionGuard.Limits) {
        let r = reader
        http.rejectUnknown(["listen", "tls_listen", "tls_certificate", "tls_key", "tls_client_ca", "camera_reads_per_second", "read_clock_skew_ms", "max_connections", "max_connections_per_address", "header_timeout_s", "request_timeout_s"])
        let httpListen = http.string("listen", required: false) ?? "127.0.0.1:8080"
        if HostPort(httpListen) == nil { r.problem(http.key("listen"), "'\(httpListen)' is not host:port (the plain listener for /health and /metrics; leave the key out for 127.0.0.1:8080)") }
        var limits = PlateReadIntake.Limits()
        limits.readsPerSecondPerCamera = http.int("camera_reads_per_second", in: 1...100, required: false) ?? limits.readsPerSecondPerCamera
        limits.clockSkewMicroseconds = Int64(http.int("read_clock_skew_ms", in: 0...60_000, required: false) ?? 2000) * 1000
        var connections = ConnectionGuard.Limits()
        connections.maxConnections = http.int("max_connections", in: 8...65_536, required: false) ?? connections.maxConnections
        connections.maxConnectionsPerAddress = http.int("max_connections_per_address", in: 1...65_536, required: false) ?? connections.maxConnectionsPerAddress
        if let s = http.double("header_timeout_s", in: 0.1...300, required: false) { connections.headerTimeout = .milliseconds(Int64(s * 1000)) }
        if let s = http.double("request_timeout_s", in: 0.1...600, required: false) { connections.requestTimeout = .milliseconds(Int64(s * 1000)) }
        return (httpListen, limits, connections)
    }

    /// [http] tls_listen, tls_certificate, tls_key and tls_client_ca: needed as soon as a camera
    /// pushes reads (reads are taken over TLS only), the client CA as soon as a credential is a
    /// certificate's. The files must exist; the listener loads them at start.
    func tlsListener(_ http: Section, cameras: [StationConfig.CameraConfig]) -> StationConfig.TLSListener? {
        let r = reader
        let pushing = cameras.filter { $0.plates == .pushed }
        let keys = ["tls_listen", "tls_certificate", "tls_key"]
        guard let first = pushing.first else {
            if let k = (keys + ["tls_client_ca"]).first(where: { http.has($0) }) {
                r.problem(http.key(k), "no camera has plates = \"pushed\": the TLS listener takes nothing (leave tls_* out)")
            }
            return nil
        }
        for k in keys where !http.has(k) {
            r.problem(http.key(k), "camera '\(first.id)' takes pushed plate reads, which are taken only over TLS: give \(keys.joined(separator: ", "))")
        }
        let listen = http.string("tls_listen", required: false) ?? ""
        if http.has("tls_listen") && HostPort(listen) == nil { r.problem(http.key("tls_listen"), "'\(listen)' is not host:port") }
        func file(_ k: String, _ what: String) -> String? {
            guard let v = http.string(k, required: false) else { return nil }
            let path = resolve(v)!
            mustExist(path, key: http.key(k), what: what)
            return path
        }
        let cert = file("tls_certificate", "the listener's certificate (PEM)")
        let key = file("tls_key", "the listener's private key (PEM)")
        let ca = file("tls_client_ca", "the CA of the cameras' client certificates (PEM)")
        // Loaded as the listener will load them, so the daemon cannot fail at start on them.
        tlsMaterial(http, certificates: [("tls_certificate", cert), ("tls_client_ca", ca)], key: ("tls_key", key))
        if ca == nil, let c = pushing.first(where: { $0.credentials.contains(where: \.needsCertificate) }) {
            r.problem(http.key("tls_client_ca"), "camera '\(c.id)' has a certificate credential: give tls_client_ca, the CA its client certificate chains to")
        }
        guard let cert, let key, HostPort(listen) != nil else { return nil }
        let listener = StationConfig.TLSListener(listen: listen, certificate: cert, key: key, clientCA: ca)
        // The whole TLS context, as the listener makes it at start: a key that is not the
        // certificate's is found here, not by a daemon that cannot start.
        if reader.problems.isEmpty, files is LocalConfigFiles {
            do { _ = try NIOSSLContext(configuration: UnitHTTP.tlsConfiguration(listener)) } catch {
                reader.problem(http.key("tls_key"), "\(key) with \(cert)\(ca.map { " and \($0)" } ?? ""): the TLS listener cannot be made (is tls_key the key of tls_certificate?): \(error)")
            }
        }
        return listener
    }

    /// As OpenSSH does for private keys: one that its group or others can read is not used.
    func privateKeyMode(_ section: Section, _ k: String, _ path: String) {
        if let mode = files.permissions(path), mode & 0o077 != 0 {
            reader.problem(section.key(k), "\(path) can be read by \(mode & 0o007 != 0 ? "everyone" : "its group") (mode \(String(mode, radix: 8))): run chmod 600 \(path) (owned by the daemon's user)")
        }
    }

    /// Certificates (PEM, at least one each) and a private key (PEM) parsed by NIOSSL, as the
    /// listener and the delivery client will parse them; a file that is absent is reported
    /// elsewhere.
    func tlsMaterial(_ section: Section, certificates: [(String, String?)], key: (String, String?)) {
        for (k, path) in certificates {
            guard let path, let bytes = files.contents(path) else { continue }
            do {
                if try NIOSSLCertificate.fromPEMBytes(bytes).isEmpty { reader.problem(section.key(k), "\(path) holds no PEM certificate") }
            } catch {
                reader.problem(section.key(k), "\(path) is not a PEM certificate: \(error)")
            }
        }
        if let path = key.1, let bytes = files.contents(path) {
            do { _ = try NIOSSLPrivateKey(bytes: bytes, format: .pem) } catch {
                reader.problem(section.key(key.0), "\(path) is not a PEM private key: \(error)")
            }
            privateKeyMode(section, key.0, path)
        }
    }

    /// [rules]: tolerance, match window, permits, watch lists.
    func rules(_ ru: Section) -> StationConfig.Rules {
        ru.rejectUnknown(["tolerance_percent", "tolerance_kg", "match_window_ms", "permits", "watch_lists"])
        let pct = ru.double("tolerance_percent", in: 0...20, required: false) ?? 0
        var watch: [StationConfig.WatchListConfig] = []
        for wl in ru.sections("watch_lists") {
            wl.rejectUnknown(["name", "file"])
            let file = resolve(wl.string("file"))
            mustExist(file, key: wl.key("file"), what: "watch list")
            // Every line, as the unit reads the list at start: a plate it could not read would
            // be watched for by nobody. (Edited while the unit runs, bad lines are skipped with
            // a warning: a running unit is not stopped for them.)
            if let file, files.exists(file) {
                if let data = files.contents(file) {
                    for p in PlateListFile.parse(data, path: file).problems {
                        reader.add([ConfigProblem(file: file, line: p.line, key: "watch list", message: "\(p.message): not a plate (correct the line or make it a # comment)")])
                    }
                } else {
                    reader.problem(wl.key("file"), "cannot read watch list \(file)")
                }
            }
            watch.append(StationConfig.WatchListConfig(name: wl.string("name") ?? "", file: file ?? ""))
        }
        let permits = resolve(ru.string("permits", required: false))
        mustExist(permits, key: ru.key("permits"), what: "permit file")
        // Every row, as the unit reads them at start: a permit dropped there would make a
        // permitted vehicle a violation.
        if let permits, files.exists(permits) {
            do throws(ConfigError) { _ = try PermitFile.read(permits, files: files) } catch {
                reader.add(error.problems)
            }
        }
        return StationConfig.Rules(
            tolerance: Tolerance(percentHundredths: Int((pct * 100).rounded()), kg: ru.int("tolerance_kg", in: 0...5_000, required: false) ?? 0),
            matchWindowMs: ru.int("match_window_ms", in: 50...30_000, required: false) ?? 1500, permitsFile: permits, watchLists: watch)
    }

    /// [storage]
    func storage(_ st: Section) -> StationConfig.Storage {
        st.rejectUnknown(["data", "retention_days", "min_free_mb", "stop_budget_s"])
        var storage = StationConfig.Storage(
            data: resolve(st.string("data")) ?? "", retentionDays: st.int("retention_days", in: 1...36_500, required: false),
            minFreeMB: st.int("min_free_mb", in: 16...1_000_000, required: false) ?? 256)
        storage.stopBudgetS = st.int("stop_budget_s", in: 0...600, required: false) ?? storage.stopBudgetS
        return storage
    }

    /// [signing]: the key is loaded here to check it.
    func signing(_ sg: Section) -> StationConfig.Signing {
        let r = reader
        sg.rejectUnknown(["key", "distinguishing_id"])
        let keyPath = resolve(sg.string("key"))
        if let keyPath {
            if let pem = files.contents(keyPath) {
                do {
                    let key = try SigningKey.load(pem: Data(pem), source: keyPath)
                    if !key.hasPrivateKey {
                        r.problem(sg.key("key"), "\(keyPath) is a public key: the unit signs with the private key (key.pem of `weighpoint keygen`)")
                    }
                } catch { r.problem(sg.key("key"), "\(error)") }
                privateKeyMode(sg, "key", keyPath)
            } else {
                r.problem(sg.key("key"), "read key \(keyPath): cannot read the file")
            }
        }
        return StationConfig.Signing(key: keyPath ?? "", distinguishingID: sg.string("distinguishing_id", required: false))
    }

    /// [case_system]
    func caseSystem(_ cs: Section) -> StationConfig.CaseSystem {
        let r = reader
        cs.rejectUnknown(["url", "client_certificate", "client_key", "ca_bundle", "token_file", "format"])
        let url = cs.string("url") ?? ""
        if !url.isEmpty && !(url.hasPrefix("https://") || url.hasPrefix("http://")) { r.problem(cs.key("url"), "must start with https:// (or http:// on loopback)") }
        let files = ["client_certificate", "client_key", "ca_bundle", "token_file"].map { k -> String? in
            let p = resolve(cs.string(k, required: false))
            mustExist(p, key: cs.key(k), what: "file")
            return p
        }
        if (files[0] == nil) != (files[1] == nil) { r.problem(cs.key("client_key"), "client_certificate and client_key go together") }
        tlsMaterial(cs, certificates: [("client_certificate", files[0]), ("ca_bundle", files[2])], key: ("client_key", files[1]))
        return StationConfig.CaseSystem(
            url: url, clientCertificate: files[0], clientKey: files[1], caBundle: files[2], tokenFile: files[3],
            format: cs.oneOf("format", ["weighpoint", "overload-exchange"], required: false) ?? "weighpoint")
    }

    /// [console]: the serial line, the technicians file (read here), lockout and logout.
    func console(_ co: Section) -> StationConfig.Console {
        let r = reader
        co.rejectUnknown(["port", "baud", "framing", "flow_control", "technicians", "status_before_login", "idle_logout_s", "lockout_after", "lockout_s"])
        var serial = SerialSettings(baud: co.int("baud", in: 300...4_000_000, required: false) ?? 115_200)
        if let f = co.string("framing", required: false) {
            if let (d, p, st) = SerialSettings.framing(f) {
                (serial.dataBits, serial.parity, serial.stopBits) = (d, p, st)
            } else {
                r.problem(co.key("framing"), "'\(f)' is not data bits, parity and stop bits like 8N1, 7E1, 8N2")
            }
        }
        if let fc = co.oneOf("flow_control", SerialSettings.FlowControl.allCases.map(\.rawValue), required: false) {
            serial.flowControl = SerialSettings.FlowControl(rawValue: fc)!
        }
        let file = resolve(co.string("technicians"))
        var technicians: [Technician] = []
        mustExist(file, key: co.key("technicians"), what: "technicians file")
        if let file, files.exists(file), let text = text(file, key: co.key("technicians"), what: "technicians file") {
            do { technicians = try TechnicianFile.parse(text, file: file) } catch { r.add(error.problems) }
        }
        var settings = ConsoleSettings(technicians: technicians)
        settings.statusBeforeLogin = co.bool("status_before_login", required: false) ?? false
        settings.idleLogoutSeconds = Double(co.int("idle_logout_s", in: 10...86_400, required: false) ?? 600)
        settings.lockoutAfter = co.int("lockout_after", in: 1...20, required: false) ?? 3
        settings.lockoutSeconds = Double(co.int("lockout_s", in: 1...3600, required: false) ?? 30)
        return StationConfig.Console(port: co.string("port", required: false), serial: serial, techniciansFile: file ?? "", settings: settings)
    }

    /// [recognizer]: needed (with its defaults) as soon as a camera reads plates itself.
    func recognizer(_ root: Section, cameras: [StationConfig.CameraConfig]) -> StationConfig.Recognizer? {
        let r = reader
        var recognizer: StationConfig.Recognizer?
        let rz = root.section("recognizer", required: false)
        rz.rejectUnknown(["models", "threshold", "detect_sides", "fallback_sides", "edge_search"])
        if root.has("recognizer") || cameras.contains(where: { $0.plates == .recognizer }) {
            let models = resolve(rz.string("models", required: false)) ?? PlateRecognizer.defaultModelsDirectory
            if !files.exists(models + "/SHA256SUMS") {
                r.problem(root.has("recognizer") ? rz.key("models") : "recognizer", "no plate-recognition models in \(models) (install them with Scripts/install-models)")
            }
            func sizes(_ key: String, _ fallback: [Int], allowEmpty: Bool) -> [Int] {
                guard rz.has(key) else { return fallback }
                let v = rz.table?[key]?.array?.compactMap { $0.int } ?? [-1]
                guard (allowEmpty || !v.isEmpty), v.allSatisfy({ (160...4096).contains($0) }) else {
                    r.problem(rz.key(key), "must be sizes in pixels, 160-4096, e.g. [800]")
                    return fallback
                }
                return v
            }
            let defaults = PlateRecognizer.Settings()
            recognizer = StationConfig.Recognizer(
                models: models, threshold: rz.double("threshold", in: 0...1, required: false) ?? PlateRecognizer.defaultThreshold,
                detectSides: sizes("detect_sides", defaults.detectSides, allowEmpty: false), fallbackSides: sizes("fallback_sides", defaults.fallbackSides, allowEmpty: true),
                edgeSearch: rz.int("edge_search", in: 0...12, required: false) ?? defaults.edgeSearch)
        }
        return recognizer
    }

    /// [calibration] profile: default `<data>/calibration.toml`; an existing one is checked.
    func calibrationProfile(_ cal: Section, storage: StationConfig.Storage, lanes: [StationConfig.Lane]) -> String {
        let r = reader
        cal.rejectUnknown(["profile"])
        let calibrationProfile = resolve(cal.string("profile", required: false)) ?? (storage.data + "/calibration.toml")
        if cal.has("profile") && !files.exists(calibrationProfile) {
            r.problem(cal.key("profile"), "calibration profile \(calibrationProfile) does not exist (leave the key out to start with an empty one in the data directory)")
        } else if files.exists(calibrationProfile), let text = text(calibrationProfile, key: cal.key("profile"), what: "calibration profile") {
            do { _ = try CalibrationFile.parse(text, file: calibrationProfile, lanes: lanes.map(\.number)) } catch { r.add(error.problems) }
        }
        return calibrationProfile
    }
}
