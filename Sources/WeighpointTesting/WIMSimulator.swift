import Foundation
import Glibc
import WeighpointCore
import WeighpointModbus
import WeighpointSystem

/// Faults the simulator injects on demand, like libmodbus's test server (STYLE.md).
public enum WIMFault: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// No reply at all.
    case timeout = 1
    /// Exception 06 "server device busy".
    case exception = 2
    /// A correct reply carrying another unit id.
    case wrongUnitId = 3
    /// A correct reply sent one byte at a time.
    case byteByByte = 4
    /// RTU: a reply with a broken CRC. TCP has no CRC: a reply with a wrong byte count or quantity.
    case badCRC = 5
    /// TCP: the connection is closed instead of answering. RTU: like a timeout.
    case disconnect = 6

    public var description: String {
        switch self {
        case .timeout: "timeout"
        case .exception: "exception"
        case .wrongUnitId: "wrong-unit-id"
        case .byteByByte: "byte-by-byte"
        case .badCRC: "bad-crc"
        case .disconnect: "disconnect"
        }
    }

    public init?(name: String) {
        guard let f = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = f
    }
}

/// A WIM controller that speaks real Modbus (libmodbus server) through a register map profile:
/// a queue of vehicle records behind the profile's handshake, and fault injection.
/// State is guarded by `lock`; the server loop runs on its own thread.
public final class WIMSimulator: @unchecked Sendable {
    public let profile: WIMProfile
    public let transport: ModbusTransport
    private let server: ModbusServer
    private let lock = NSLock()
    /// Encoded record blocks waiting behind the handshake, oldest first.
    private var queue: [(sequence: UInt64, block: [UInt16])] = []
    private let capacity: Int
    private var newestSequence: UInt64 = 0
    private var faults: [(fault: WIMFault, remaining: Int, skip: Int)] = []
    private var worker: WorkerThread?
    private var counters = Statistics()
    private var acknowledgedHook: (@Sendable ([UInt64]) -> Void)?

    /// Called with the sequences of the records the unit acknowledged, as it does (on the
    /// server's thread, with the simulator's lock held: keep it short).
    public func onAcknowledged(_ hook: @escaping @Sendable ([UInt64]) -> Void) { lock.withLock { acknowledgedHook = hook } }

    /// What the simulator has done, for tests and the console.
    public struct Statistics: Sendable, Equatable {
        public var requests = 0
        public var faultsServed: [String: Int] = [:]
        /// Records dropped because the queue was full (the unit then sees a sequence gap).
        public var dropped = 0
        public var acknowledged = 0
    }

    public init(profile: WIMProfile, transport: ModbusTransport, capacity: Int = 1000) throws(ModbusError) {
        self.profile = profile
        self.transport = transport
        self.capacity = capacity
        server = try ModbusServer(transport, unitId: profile.unitId, registers: max(profile.highestAddress + 16, 256))
        if let magic = profile.magic { server[magic.address] = magic.value }
    }

    /// The bound TCP port (useful when started with port 0).
    public var port: Int { server.boundPort }
    public var statistics: Statistics { lock.withLock { counters } }
    public var pendingCount: Int { lock.withLock { queue.count } }

    /// Opens the server (listening socket or serial device) and starts serving on a thread.
    public func start() throws(ModbusError) {
        try server.open()
        let w = WorkerThread(name: "wim-simulator") { [self] w in serve(w) }
        lock.withLock { worker = w }
        w.start()
    }

    /// Stops serving and closes the server; returns when the thread has ended.
    public func stop() {
        guard let w = lock.withLock({ () -> WorkerThread? in defer { worker = nil }; return worker }) else { return }
        w.stop()
        server.shutdown()
    }

    /// Adds a vehicle record behind the handshake. A full queue drops its oldest record.
    public func enqueue(_ record: WIMRecord) {
        enqueue(block: profile.encode(record))
    }

    /// Adds a record block exactly as given (a captured trace), bit for bit.
    public func enqueue(block: [UInt16]) {
        let sequence = profile.decode(block).sequence
        lock.withLock {
            if queue.count >= capacity {
                queue.removeFirst()
                counters.dropped += 1
            }
            queue.append((sequence, block))
            newestSequence = max(newestSequence, sequence)
            show()
        }
    }

    /// The controller's numbering starts again (a reset, or a counter that wraps): the next record
    /// enqueued may carry a lower sequence than the last, and the counter register shows it.
    public func restartNumbering() {
        lock.withLock {
            newestSequence = queue.map(\.sequence).max() ?? 0
            show()
        }
    }

    /// Makes `count` requests fail with `fault`, after `after` requests answered normally.
    public func inject(_ fault: WIMFault, count: Int = 1, after: Int = 0) {
        lock.withLock { faults.append((fault, count, after)) }
    }

    // MARK: Serving

    private func serve(_ worker: WorkerThread) {
        while worker.isRunning {
            do {
                guard try server.waitForClient(timeoutMs: 50) else { continue }
            } catch {
                usleep(50_000)
                continue
            }
            guard server.requestPending(timeoutMs: 50) else { continue }
            guard let request = server.receive() else {
                server.closeClient()  // peer gone (TCP) or a broken frame (RTU)
                continue
            }
            if request.isEmpty { continue }  // addressed to another unit id
            handle(request)
        }
    }

    private func handle(_ request: [UInt8]) {
        lock.lock()
        counters.requests += 1
        var fault: WIMFault?
        if !faults.isEmpty && faults[0].skip > 0 {
            faults[0].skip -= 1
        } else if !faults.isEmpty {
            fault = faults[0].fault
            faults[0].remaining -= 1
            if faults[0].remaining <= 0 { faults.removeFirst() }
            counters.faultsServed[fault!.description, default: 0] += 1
        }
        switch fault {
        case nil:
            server.reply(request)
            afterWrite(request)
            lock.unlock()
        case .timeout?:
            lock.unlock()
        case .exception?:
            server.replyException(request, code: 6)  // MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY
            lock.unlock()
        case .disconnect?:
            lock.unlock()
            server.closeClient()
        case .wrongUnitId?, .byteByByte?, .badCRC?:
            let pdu = applyAndAnswer(request)
            afterWrite(request)
            lock.unlock()
            var unit = UInt8(profile.unitId)
            if fault == .wrongUnitId { unit = unit &+ 1 }
            var adu = frame(request, pdu: pdu, unit: unit)
            if fault == .badCRC {
                switch transport {
                case .rtu: adu[adu.count - 1] ^= 0xFF
                case .tcp:
                    // No CRC on TCP: corrupt what the client checks instead, the byte count of a
                    // read reply or the quantity echoed by a write reply.
                    if pdu[0] == 0x03 { adu[8] = adu[8] &- 2 } else if adu.count > 11 { adu[11] ^= 0x01 }
                }
            }
            if fault == .byteByByte { server.sendRaw(adu, chunk: 1, gapMicroseconds: 3_000) } else { server.sendRaw(adu) }
        }
    }

    /// Answers a read or write request by hand (for corrupted replies), applying writes.
    private func applyAndAnswer(_ request: [UInt8]) -> [UInt8] {
        let h = server.headerLength
        let fc = request[h]
        let address = Int(request[h + 1]) << 8 | Int(request[h + 2])
        let quantity = Int(request[h + 3]) << 8 | Int(request[h + 4])
        switch fc {
        case 0x03:
            var pdu: [UInt8] = [0x03, UInt8(quantity * 2)]
            for a in address..<(address + quantity) where a < server.registerCount {
                pdu += [UInt8(server[a] >> 8), UInt8(server[a] & 0xFF)]
            }
            return pdu
        case 0x06:
            server[address] = UInt16(quantity)
            return Array(request[h..<(h + 5)])
        case 0x10:
            for i in 0..<quantity where address + i < server.registerCount {
                server[address + i] = UInt16(request[h + 6 + 2 * i]) << 8 | UInt16(request[h + 7 + 2 * i])
            }
            return Array(request[h..<(h + 5)])
        default:
            return [fc | 0x80, 0x01]
        }
    }

    private func frame(_ request: [UInt8], pdu: [UInt8], unit: UInt8) -> [UInt8] {
        switch transport {
        case .tcp:
            let length = pdu.count + 1
            return [request[0], request[1], 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), unit] + pdu
        case .rtu:
            let body = [unit] + pdu
            let crc = modbusCRC16(body)
            return body + [UInt8(crc & 0xFF), UInt8(crc >> 8)]
        }
    }

    /// Reacts to writes into the handshake and fault registers. Called with the lock held.
    private func afterWrite(_ request: [UInt8]) {
        let h = server.headerLength
        guard request.count > h + 4, request[h] == 0x10 || request[h] == 0x06 else { return }
        let address = Int(request[h + 1]) << 8 | Int(request[h + 2])
        let quantity = request[h] == 0x06 ? 1 : Int(request[h + 3]) << 8 | Int(request[h + 4])
        let written = address..<(address + quantity)
        switch profile.handshake {
        case .counter(_, let ack):
            if written.overlaps(ack.address..<ack.end) {
                let value = profile.handshakeValue(ack, (ack.address..<ack.end).map { server[$0] })
                let taken = queue.filter { $0.sequence <= value }.map(\.sequence)
                queue.removeAll { $0.sequence <= value }
                counters.acknowledged += taken.count
                if !taken.isEmpty { acknowledgedHook?(taken) }
                show()
            }
        case .readyFlag(let ready):
            if written.contains(ready.address) && server[ready.address] == 0 && !queue.isEmpty {
                // Not inside the optional call: without a hook its argument is never evaluated.
                let taken = queue.removeFirst().sequence
                acknowledgedHook?([taken])
                counters.acknowledged += 1
                show()
            }
        }
        if let code = profile.faultCodeAddress, let count = profile.faultCountAddress,
            written.contains(code) || written.contains(count)
        {
            if let fault = WIMFault(rawValue: Int(server[code])), server[count] > 0 {
                faults.append((fault, Int(server[count]), 0))
            }
            server[code] = 0
            server[count] = 0
        }
    }

    /// Puts the oldest unacknowledged record in the block and updates the handshake registers.
    private func show() {
        if let first = queue.first {
            for (i, v) in first.block.enumerated() { server[profile.blockAddress + i] = v }
        }
        switch profile.handshake {
        case .counter(let counter, _):
            for (i, v) in profile.handshakeRegisters(newestSequence, counter).enumerated() { server[counter.address + i] = v }
        case .readyFlag(let ready):
            server[ready.address] = queue.isEmpty ? 0 : 1
        }
    }
}
