using System.Runtime.InteropServices;

namespace ConvKit.IO;

/// <summary>
/// Writes a file so that it is either its old self or wholly new, never half-written: the bytes go to a temporary file
/// beside it, are flushed to disk, and the temporary file is renamed over the target (an atomic replace on one volume).
/// A run killed at any moment (checkpoints, galleries, metrics, datasets) leaves the last good file in place.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> with <paramref name="write"/>; its folder must exist. When
    /// <paramref name="write"/> throws, the temporary file is removed, the old file is untouched and the exception
    /// propagates.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            if (File.Exists(temporary)) File.Delete(temporary);
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) as <see cref="Write"/> does.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>
    /// Flushes a directory's entries to disk, so that a rename into it survives a power cut, not only a killed process
    /// (POSIX leaves the new name in the page cache until the directory itself is synced). Best effort, Unix only:
    /// Windows has no portable way to open a directory for flushing and NTFS journals its renames.
    /// </summary>
    static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            int descriptor = Posix.Open(directory, 0 /* O_RDONLY */);
            if (descriptor < 0) return;
            Posix.Fsync(descriptor);
            Posix.Close(descriptor);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    static class Posix
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)] internal static extern int Open(string path, int flags);
        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)] internal static extern int Fsync(int descriptor);
        [DllImport("libc", EntryPoint = "close", SetLastError = true)] internal static extern int Close(int descriptor);
    }
}
