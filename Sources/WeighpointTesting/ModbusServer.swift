import CModbus
import Glibc
import WeighpointModbus

/// A libmodbus server context with a register table: the device side, for simulators.
/// Owned by one thread; the register table is shared under the owner's lock.
public final class ModbusServer {
    public let transport: ModbusTransport
    let ctx: OpaquePointer
    let mapping: UnsafeMutablePointer<modbus_mapping_t>
    private var listenSocket: Int32 = -1
    private var clientOpen = false
    /// The TCP port actually bound (useful with port 0).
    public private(set) var boundPort: Int = 0

    /// `modbus_new_tcp`/`modbus_new_rtu` with `modbus_mapping_new` holding `registers` holding registers.
    public init(_ transport: ModbusTransport, unitId: Int, registers: Int) throws(ModbusError) {
        self.transport = transport
        ctx = try transport.makeContext()
        modbus_set_slave(ctx, Int32(unitId))
        guard let m = modbus_mapping_new(0, 0, Int32(registers), 0) else {
            modbus_free(ctx)
            throw ModbusClient.error(transport.description, "allocate \(registers) registers", nil)
        }
        mapping = m
    }

    deinit {
        closeClient()
        if listenSocket >= 0 { Glibc.close(listenSocket) }
        modbus_mapping_free(mapping)
        modbus_free(ctx)
    }

    /// Register `address` of the table.
    public subscript(address: Int) -> UInt16 {
        get { mapping.pointee.tab_registers[address] }
        set { mapping.pointee.tab_registers[address] = newValue }
    }

    public var registerCount: Int { Int(mapping.pointee.nb_registers) }

    /// TCP: `modbus_tcp_listen`; RTU: `modbus_connect` (opens the serial device).
    public func open() throws(ModbusError) {
        switch transport {
        case .tcp:
            listenSocket = modbus_tcp_listen(ctx, 1)
            guard listenSocket >= 0 else { throw ModbusClient.error(transport.description, "listen", nil) }
            var addr = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listenSocket, $0, &len) }
            }
            boundPort = Int(UInt16(bigEndian: addr.sin_port))
        case .rtu:
            guard modbus_connect(ctx) == 0 else { throw ModbusClient.error(transport.description, "open serial device", nil) }
            clientOpen = true
        }
    }

    /// TCP: waits up to `timeoutMs` for a client and accepts it (`modbus_tcp_accept`); false on timeout.
    /// RTU: always true once open.
    public func waitForClient(timeoutMs: Int) throws(ModbusError) -> Bool {
        guard case .tcp = transport else { return clientOpen }
        if clientOpen { return true }
        var p = pollfd(fd: listenSocket, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, Int32(timeoutMs))
        if r <= 0 { return false }
        var s = listenSocket
        guard modbus_tcp_accept(ctx, &s) >= 0 else { throw ModbusClient.error(transport.description, "accept", nil) }
        clientOpen = true
        return true
    }

    /// True when a request is waiting (or the peer closed), within `timeoutMs`.
    public func requestPending(timeoutMs: Int) -> Bool {
        let fd = modbus_get_socket(ctx)
        guard fd >= 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(timeoutMs)) > 0
    }

    /// `modbus_receive`: the request ADU, empty for a frame to another unit id, nil when the peer
    /// disconnected or the frame was broken.
    public func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(MODBUS_TCP_MAX_ADU_LENGTH))
        let n = modbus_receive(ctx, &buffer)
        if n < 0 { return nil }
        return Array(buffer.prefix(Int(n)))
    }

    /// `modbus_reply`: answers `request` from the register table.
    public func reply(_ request: [UInt8]) {
        _ = modbus_reply(ctx, request, Int32(request.count), mapping)
    }

    /// `modbus_reply_exception`.
    public func replyException(_ request: [UInt8], code: UInt32) {
        _ = modbus_reply_exception(ctx, request, code)
    }

    /// `modbus_get_header_length`: 7 for TCP (MBAP), 1 for RTU (unit id).
    public var headerLength: Int { Int(modbus_get_header_length(ctx)) }

    /// Writes raw bytes to the peer, one `write` per chunk, pausing `gapMicroseconds` between
    /// chunks (1-byte chunks give a byte-by-byte reply).
    public func sendRaw(_ bytes: [UInt8], chunk: Int = Int.max, gapMicroseconds: UInt32 = 0) {
        let fd = modbus_get_socket(ctx)
        var i = 0
        while i < bytes.count {
            let n = min(chunk, bytes.count - i)
            _ = bytes[i..<(i + n)].withUnsafeBytes { write(fd, $0.baseAddress, n) }
            i += n
            if gapMicroseconds > 0 && i < bytes.count { usleep(gapMicroseconds) }
        }
    }

    /// Drops the current client (TCP) so the next one can be accepted; RTU keeps the device open.
    public func closeClient() {
        guard clientOpen else { return }
        if case .tcp = transport {
            let fd = modbus_get_socket(ctx)
            if fd >= 0 { Glibc.close(fd) }
            modbus_set_socket(ctx, -1)
            clientOpen = false
        }
    }

    /// Closes everything (listening socket, client, serial device).
    public func shutdown() {
        closeClient()
        if listenSocket >= 0 {
            Glibc.close(listenSocket)
            listenSocket = -1
        }
        if case .rtu = transport, clientOpen {
            modbus_close(ctx)
            clientOpen = false
        }
    }
}

/// The Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF), low byte sent first.
public func modbusCRC16(_ bytes: some Sequence<UInt8>) -> UInt16 {
    var crc: UInt16 = 0xFFFF
    for b in bytes {
        crc ^= UInt16(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
    }
    return crc
}
