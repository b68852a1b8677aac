// WeighpointConsole owns the technician console: the I/O-free session (login, commands, the
// reference-vehicle procedure), the line editor, the technicians, and the serial (libserialport)
// and stdio transports with their runner thread. It reaches the unit only through ConsoleHost.
// It may import Core, System and Crypto (PIN hashes).
import WeighpointCrypto
import WeighpointCore

/// Settings of a console, from the station configuration's `[console]`.
public struct ConsoleSettings: Sendable {
    public var technicians: [Technician]
    /// `status` and `help` work at the login prompt.
    public var statusBeforeLogin = false
    public var idleLogoutSeconds: Double = 600
    /// Failed logins in a row before the console locks.
    public var lockoutAfter = 3
    /// First lock; each further failure doubles it, up to `lockoutMaxSeconds`.
    public var lockoutSeconds: Double = 30
    public var lockoutMaxSeconds: Double = 3600
    public var maxLineBytes = 200
    /// Lines taken from one burst of input; the rest of a flood is discarded.
    public var linesPerBurst = 16

    public init(technicians: [Technician]) { self.technicians = technicians }
}

/// One technician console: login, commands, confirmations and the long-running views, as a
/// state machine over bytes in and bytes out. It reads no clock and does no I/O itself: the
/// runner feeds it input and the monotonic time, and writes what it returns, so the same session
/// runs over a UART, standard input or a test. Line endings out are CR LF.
public final class ConsoleSession {
    public let host: any ConsoleHost
    public let settings: ConsoleSettings
    var editor: LineEditor
    var state: State = .loginName
    /// The technician logged in.
    public private(set) var user: Technician?
    var lastInput: Double = 0
    var failures = 0
    var lockedUntil: Double = 0
    var out: [UInt8] = []
    /// Set by Ctrl-D at the login prompt: on standard input the runner then stops.
    public private(set) var wantsToEnd = false
    /// When a question that changes something is asked, what was typed ahead of it is dropped.
    var dropTypeAhead = false
    var now: Double = 0

    /// A question waiting for a line.
    struct Prompt {
        var text: String
        /// Handles the answer; returning normally leaves the state to the handler.
        var answer: (ConsoleSession, String) -> Void
        /// Ctrl-C: what to say (the state returns to the command prompt).
        var cancelled = "cancelled, nothing changed"
        /// Guards a change: type-ahead is discarded when it is asked.
        var confirmsChange = false
    }

    enum State {
        case loginName
        case loginPIN(name: String)
        case ready
        case prompt(Prompt)
        case live(lane: Int?, LiveFeed.Subscription)
        case collecting(ReferenceRun, LiveFeed.Subscription)
    }

    /// Words a technician may not be named: at the login prompt they may be read as commands.
    public static let reservedNames: Set<String> = ["status", "help"]

    public init(host: any ConsoleHost, settings: ConsoleSettings) {
        self.host = host
        self.settings = settings
        editor = LineEditor(maxBytes: settings.maxLineBytes)
    }

    // MARK: the runner's side

    /// A peer appeared (the port opened, the program started): the banner and login prompt.
    public func start(now: Double) -> [UInt8] {
        self.now = now
        lastInput = now
        // Failures and a lock from before a restart still count.
        let saved = host.loadLockout()
        failures = max(0, saved.failures)
        if let until = saved.lockedUntil {
            let left = Double(host.now().microseconds(to: until)) / 1e6
            if left > 0 { lockedUntil = now + min(left, settings.lockoutMaxSeconds) }
        }
        say("")
        say("Weighpoint \(host.deviceID) at station \(host.stationCode): technician console")
        say(settings.statusBeforeLogin ? "Type your name to log in (status and help work without)." : "Type your name to log in.")
        showPrompt()
        return flush()
    }

    /// Input from the technician.
    public func receive(_ bytes: [UInt8], now: Double) -> [UInt8] {
        self.now = now
        lastInput = now
        dropTypeAhead = false
        var lines = 0
        var index = 0
        var lineStart = 0
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            switch state {
            case .live(_, let sub):
                // Any key ends the live view.
                sub.cancel()
                say("(live view ended)")
                state = .ready
                showPrompt()
                continue
            case .collecting(let run, let sub):
                collectingKey(b, run, sub)
                continue
            default:
                break
            }
            guard let event = editor.feed(b, echo: &out) else { continue }
            lines += 1
            if lines > settings.linesPerBurst {
                editor.reset()
                say("")
                say("input flood: \(bytes.count - lineStart) more bytes discarded")
                showPrompt()
                break
            }
            lineStart = index
            handle(event)
            // A view that takes keys started: the rest of this burst (an LF after the CR, keys
            // typed ahead) must not end it at once.
            if isWatching { break }
            if dropTypeAhead {
                dropTypeAhead = false
                let rest = bytes[index...]
                if rest.contains(where: { $0 > 0x20 }) {
                    say("")
                    say("(what was typed ahead of the question was discarded)")
                    showPromptText()
                }
                break
            }
        }
        return flush()
    }

    /// Time passes: live views print what happened, idle sessions log out, locks expire.
    public func tick(now: Double) -> [UInt8] {
        self.now = now
        switch state {
        case .live(let lane, let sub):
            for e in sub.take() { liveLine(e, lane: lane) }
        case .collecting(var run, let sub):
            for e in sub.take() {
                guard case .weighed(let w) = e else { continue }
                if run.isComplete { break }
                offer(w, &run)
            }
            state = .collecting(run, sub)
            if run.isComplete { finishCollecting(run, sub) }
        default:
            break
        }
        if let u = user, !isWatching, now - lastInput > settings.idleLogoutSeconds {
            say("")
            say("logged out: no input for \(Int(settings.idleLogoutSeconds / 60)) min")
            host.recordEvent("console_logout", who: u.name, detail: "idle \(Int(settings.idleLogoutSeconds)) s")
            endSession()
            showPrompt()
        }
        return flush()
    }

    /// The peer went away (adapter unplugged, port closed): whoever was logged in is logged out.
    public func disconnected(now: Double) {
        self.now = now
        if let u = user { host.recordEvent("console_logout", who: u.name, detail: "connection lost") }
        endSession()
        out.removeAll()
    }

    var isWatching: Bool {
        switch state {
        case .live, .collecting: true
        default: false
        }
    }

    // MARK: output

    func say(_ line: String) {
        out += Array(line.utf8)
        out += [0x0D, 0x0A]
    }

    func flush() -> [UInt8] {
        defer { out.removeAll(keepingCapacity: true) }
        return out
    }

    func showPrompt() {
        editor.reset()
        showPromptText()
    }

    func showPromptText() {
        switch state {
        case .loginName:
            editor.echo = true
            out += Array("login: ".utf8)
        case .loginPIN:
            editor.echo = false
            out += Array("PIN: ".utf8)
        case .ready:
            editor.echo = true
            out += Array("\(host.deviceID) \(user?.name ?? "")> ".utf8)
        case .prompt(let p):
            editor.echo = true
            out += Array(p.text.utf8)
        case .live, .collecting:
            break
        }
    }

    /// Asks a question; the answer goes to `p.answer`.
    func ask(_ p: Prompt) {
        state = .prompt(p)
        if p.confirmsChange { dropTypeAhead = true }
        showPrompt()
    }

    /// Back to the command prompt.
    func ready() {
        state = .ready
        showPrompt()
    }

    // MARK: input

    private func handle(_ event: LineEvent) {
        switch (event, state) {
        case (.tooLong(let n), _):
            say("line too long (\(n) bytes over \(settings.maxLineBytes)): ignored")
            showPromptText()
        case (.interrupt, .prompt(let p)):
            say(p.cancelled)
            if user == nil { state = .loginName; showPrompt() } else { ready() }
        case (.interrupt, .loginPIN):
            state = .loginName
            showPrompt()
        case (.interrupt, _):
            showPrompt()
        case (.endOfInput, .loginName):
            wantsToEnd = true
        case (.endOfInput, .ready):
            logout("Ctrl-D")
        case (.endOfInput, _):
            break
        case (.line(let text), .loginName):
            loginName(text.trimmed)
        case (.line(let pin), .loginPIN(let name)):
            loginPIN(name, pin)
        case (.line(let text), .prompt(let p)):
            state = .ready
            p.answer(self, text.trimmed)
            if case .ready = state { showPrompt() }
        case (.line(let text), .ready):
            run(text)
            if case .ready = state { showPrompt() }
        case (.line, _):
            break
        }
    }

    // MARK: login

    private func loginName(_ name: String) {
        if name.isEmpty { showPrompt(); return }
        if settings.statusBeforeLogin, let cmd = name.words.first, cmd == "status" || cmd == "help" {
            run(name, readOnly: true)
            showPrompt()
            return
        }
        if now < lockedUntil {
            say("locked after \(failures) failed logins: try again in \(Int((lockedUntil - now).rounded(.up))) s")
            showPrompt()
            return
        }
        state = .loginPIN(name: name)
        showPrompt()
    }

    private func loginPIN(_ name: String, _ pin: String) {
        let tech = settings.technicians.first { $0.name == name }
        // An unknown name costs the same time as a known one: the answer must not tell them apart.
        let ok: Bool
        if let tech {
            ok = tech.pin.matches(pin)
        } else {
            _ = PINHash.derive(pin, salt: Array(repeating: 0, count: 16), iterations: settings.technicians.first?.pin.iterations ?? PINHash.minimumIterations)
            ok = false
        }
        let shownName = Technician.isValidName(name) ? name : "(not a valid name)"
        guard ok, let tech else {
            failures += 1
            host.recordEvent("console_login_failed", who: shownName, detail: "failure \(failures) in a row")
            var saved = ConsoleLockout(failures: failures)
            var locked: Double?
            if failures >= settings.lockoutAfter {
                let lock = min(settings.lockoutSeconds * Double(1 << min(failures - settings.lockoutAfter, 20)), settings.lockoutMaxSeconds)
                lockedUntil = now + lock
                saved.lockedUntil = host.now().adding(microseconds: Int64(lock * 1e6))
                locked = lock
            }
            // Kept before the answer, so cutting the power on "Login incorrect" gains nothing.
            host.saveLockout(saved)
            say("Login incorrect")
            if let lock = locked {
                host.recordEvent("console_lockout", who: shownName, detail: "\(failures) failed logins, locked \(Int(lock)) s")
                say("locked for \(Int(lock)) s after \(failures) failed logins")
            }
            state = .loginName
            showPrompt()
            return
        }
        if failures > 0 { host.saveLockout(ConsoleLockout()) }
        failures = 0
        user = tech
        host.recordEvent("console_login", who: tech.name, detail: "ok")
        say("Logged in as \(tech.name)\(tech.fullName.map { " (\($0))" } ?? ""). Type help for the commands.")
        state = .ready
        showPrompt()
    }

    func logout(_ why: String) {
        if let u = user {
            host.recordEvent("console_logout", who: u.name, detail: why)
            say("logged out")
        }
        endSession()
        showPrompt()
    }

    private func endSession() {
        switch state {
        case .live(_, let s), .collecting(_, let s): s.cancel()
        default: break
        }
        user = nil
        state = .loginName
        editor.reset()
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    var words: [String] { split(separator: " ").map(String.init) }
}
