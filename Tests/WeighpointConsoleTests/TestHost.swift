import WeighpointCrypto
import Foundation
@testable import WeighpointConsole
import WeighpointCore
import WeighpointTesting

typealias TestHost = MemoryConsoleHost

let testPIN = "4711-0815"
/// One technician, hashed with the minimum cost so tests stay fast.
let technicians = [Technician(name: "li", pin: PINHash(pin: testPIN, iterations: PINHash.minimumIterations), fullName: "李工")]

/// Drives a session as a terminal would: bytes in, text out, a clock the test moves.
final class Terminal {
    let session: ConsoleSession
    var time: Double = 1000
    var screen = ""

    init(_ host: TestHost, configure: (inout ConsoleSettings) -> Void = { _ in }) {
        var s = ConsoleSettings(technicians: technicians)
        configure(&s)
        session = ConsoleSession(host: host, settings: s)
        screen += String(decoding: session.start(now: time), as: UTF8.self)
    }

    /// Types `text` (Enter is CR, as minicom sends it) and returns what the console answered.
    @discardableResult
    func type(_ text: String, enter: Bool = true) -> String {
        send(Array((text + (enter ? "\r" : "")).utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> String {
        let out = String(decoding: session.receive(bytes, now: time), as: UTF8.self)
        screen += out
        return out
    }

    @discardableResult
    func wait(_ seconds: Double) -> String {
        time += seconds
        let out = String(decoding: session.tick(now: time), as: UTF8.self)
        screen += out
        return out
    }

    func login() {
        type("li")
        type(testPIN)
    }
}
