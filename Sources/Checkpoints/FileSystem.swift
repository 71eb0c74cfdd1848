#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX helpers: whole-file reads, durable atomic writes, directory listing and creation.
/// Every failure becomes a ``CheckpointError`` of kind `.io` naming the path and the system's reason.
enum FileSystem {
    /// The complete contents of the regular file at `path`; anything else (a FIFO, a device, a folder) is
    /// refused without waiting on it.
    static func readAll(_ path: String) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It changes
        // nothing for the regular files that pass the check below.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw ioError("cannot open for reading", path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ioError("cannot stat", path) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError(.io, "not a regular file (\(fileTypeName(status.st_mode)))", path: path)
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        // Up to the size fstat gave, then through a small buffer: end of file usually comes at once, and a
        // file that grew since fstat is read on without doubling (and zero-filling) the whole array.
        var probe = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count: Int
            if filled < bytes.count {
                count = bytes.withUnsafeMutableBytes { buffer in
                    read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
                }
            } else {
                count = probe.withUnsafeMutableBytes { buffer in read(descriptor, buffer.baseAddress!, buffer.count) }
                if count > 0 { bytes.append(contentsOf: probe[0..<count]) }
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot read", path)
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Writes `bytes` to `path` so that readers see either the old file or the complete new one: write a
    /// temporary file `.NAME.tmp-PID` in the same directory, fsync it, rename it over `path`, fsync the
    /// directory. The temporary file is removed on failure.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let (directory, name) = split(path)
        let temporary = join(directory, temporaryName(for: name))
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ioError("cannot create temporary file '\(temporary)'", path) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(descriptor) }
            var written = 0
            while written < bytes.count {
                let count = bytes.withUnsafeBytes { buffer in
                    write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot write temporary file '\(temporary)'", path)
                }
                written += count
            }
            guard fsync(descriptor) == 0 else { throw ioError("cannot fsync temporary file '\(temporary)'", path) }
        }
        guard rename(temporary, path) == 0 else { throw ioError("cannot rename '\(temporary)' into place", path) }
        renamed = true
        try syncDirectory(directory, for: path)
    }

    /// The temporary name used while writing `name`: `.NAME.tmp-PID`.
    static func temporaryName(for name: String) -> String { ".\(name).tmp-\(getpid())" }

    /// If `name` is a temporary file written by ``writeAtomically(_:to:)``, the writer's process id.
    static func temporaryWriter(of name: String) -> Int32? {
        guard name.hasPrefix(".") else { return nil }
        let marker = Array(".tmp-".utf8)
        let utf8 = Array(name.utf8)
        guard utf8.count > marker.count else { return nil }
        for start in stride(from: utf8.count - marker.count, through: 1, by: -1)
        where Array(utf8[start ..< start + marker.count]) == marker {
            return Int32(String(decoding: utf8[(start + marker.count)...], as: UTF8.self))
        }
        return nil
    }

    /// Deletes the regular files in `directory` named `.NAME.tmp-PID` (temporary files of
    /// ``writeAtomically(_:to:)``) whose name starts with `namePrefix` and whose writer `isAbandoned`
    /// says was interrupted; returns their paths. A missing directory has none.
    static func removeTemporaryFiles(in directory: String, namePrefix: String = ".",
                                     isAbandoned: (Int32) -> Bool) throws -> [String] {
        guard isDirectory(directory) else { return [] }
        var removed: [String] = []
        for name in try list(directory) where name.hasPrefix(namePrefix) {
            guard let pid = temporaryWriter(of: name), isAbandoned(pid) else { continue }
            let path = join(directory, name)
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            try remove(path)
            removed.append(path)
        }
        return removed
    }

    /// Whether a process with this id currently exists.
    static func processExists(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// Makes sure the directory's entry for a renamed file is on disk.
    static func syncDirectory(_ directory: String, for path: String) throws {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ioError("cannot open directory '\(directory)' to fsync it", path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ioError("cannot fsync directory '\(directory)'", path) }
    }

    /// The names in `directory` (without `.` and `..`).
    static func list(_ directory: String) throws -> [String] {
        guard let stream = opendir(directory) else { throw ioError("cannot list directory", directory) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether `path` names an existing directory.
    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path` and any missing parents.
    static func createDirectories(_ path: String) throws {
        if path.isEmpty || isDirectory(path) { return }
        let parent = split(path).directory
        if parent != path && parent != "." && parent != "/" { try createDirectories(parent) }
        if mkdir(path, 0o755) != 0 && !(errno == EEXIST && isDirectory(path)) {
            throw ioError("cannot create directory", path)
        }
    }

    /// Removes the file at `path`.
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw ioError("cannot delete", path) }
    }

    /// `path` split into its directory (`.` when there is none) and last component.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// `directory/name`.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// A file type in words, for errors about files that are not regular.
    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a plain file"
        }
    }

    private static func ioError(_ action: String, _ path: String) -> CheckpointError {
        let reason = String(cString: strerror(errno))
        return CheckpointError(.io, "\(action): \(reason)", path: path)
    }
}
