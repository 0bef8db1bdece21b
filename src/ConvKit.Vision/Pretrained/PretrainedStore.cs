using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace ConvKit.Vision.Pretrained;

/// <summary>
/// The pretrained-weights store: a <see cref="PretrainedPackage"/> is downloaded once from the npm registry over HTTPS
/// (or taken from an offline folder), checked against its pinned SHA-512, unpacked into a per-user cache and used from
/// there. <c>store.Get(PretrainedPackage.FaceApi)</c> returns the folder holding the package's files
/// (<c>model/…</c>, <c>demo/…</c>; the tarball's top folder, <c>package/</c>, is dropped).
/// <list type="bullet">
/// <item>Cache: <c>CACHE/NAME/VERSION</c> (the scope's <c>@</c> and <c>/</c> made <c>+</c>), CACHE being
/// <see cref="DefaultCacheDirectory"/> unless given. Beside the files lies <see cref="RecordFileName"/>: the package,
/// its integrity value and every file's size and SHA-256, written last.</item>
/// <item>Never a partial package: the tarball is downloaded to a temporary file and checked, unpacked into a temporary
/// folder, and only then renamed into place; an interrupted download or unpacking leaves the cache as it was.</item>
/// <item>Damage found and repaired: the first <see cref="Get"/> of a package by a store checks every file against the
/// record; a missing record (an unpacking cut short), a missing, resized or altered file makes the store fetch the
/// package again (and say so on its log), or fail naming the package when it cannot.</item>
/// <item>Air-gapped machines: give an offline folder holding the registry's tarball (<see cref="PretrainedPackage.TarballName"/>,
/// as <c>npm pack NAME@VERSION</c> writes it) — or set <c>CONVKIT_PRETRAINED_OFFLINE</c> — and the network is never
/// used; the tarball is still checked against the pinned SHA-512.</item>
/// </list>
/// Errors are <see cref="PretrainedStoreException"/>s whose message names the package and what to do.
/// </summary>
public sealed class PretrainedStore
{
    /// <summary>The file in a package's cache folder recording what was unpacked there.</summary>
    public const string RecordFileName = ".convkit-package.json";

    /// <summary>The environment variable naming a cache folder other than the default.</summary>
    public const string CacheVariable = "CONVKIT_PRETRAINED_CACHE";

    /// <summary>The environment variable naming an offline folder of tarballs (used instead of the network).</summary>
    public const string OfflineVariable = "CONVKIT_PRETRAINED_OFFLINE";

    readonly HttpMessageHandler? handler;
    readonly TextWriter? log;
    readonly HashSet<string> verified = [];

    /// <summary>
    /// <c>$CONVKIT_PRETRAINED_CACHE</c> when set, else <c>convkit/pretrained</c> in the user's local application data
    /// (<c>~/.local/share/convkit/pretrained</c> on Linux).
    /// </summary>
    public static string DefaultCacheDirectory =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } directory ? directory
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "convkit", "pretrained");

    /// <summary>Where packages are unpacked.</summary>
    public string CacheDirectory { get; }

    /// <summary>A folder of tarballs used instead of the network, or null to download.</summary>
    public string? OfflineDirectory { get; }

    /// <param name="cacheDirectory">where packages are unpacked (default <see cref="DefaultCacheDirectory"/>)</param>
    /// <param name="offlineDirectory">a folder holding the tarballs, used instead of the network (default <c>$CONVKIT_PRETRAINED_OFFLINE</c>, else none)</param>
    /// <param name="handler">the HTTP handler downloads go through (default: .NET's, with the system's proxy settings)</param>
    /// <param name="log">where the store says what it fetches and repairs (default: nowhere)</param>
    public PretrainedStore(string? cacheDirectory = null, string? offlineDirectory = null, HttpMessageHandler? handler = null, TextWriter? log = null)
    {
        CacheDirectory = Path.GetFullPath(cacheDirectory ?? DefaultCacheDirectory);
        OfflineDirectory = offlineDirectory ?? (Environment.GetEnvironmentVariable(OfflineVariable) is { Length: > 0 } offline ? offline : null);
        this.handler = handler;
        this.log = log;
    }

    /// <summary>The folder a package is (or will be) unpacked into: CACHE/NAME/VERSION.</summary>
    public string PackageDirectory(PretrainedPackage package) =>
        Path.Combine(CacheDirectory, package.Name.Replace("@", "").Replace('/', '+'), package.Version);

    /// <summary>
    /// The package's folder when it is in the cache, complete and unaltered; null otherwise. Never downloads — for
    /// callers that must not touch the network (tests).
    /// </summary>
    public string? FindCached(PretrainedPackage package)
    {
        string directory = PackageDirectory(package);
        return verified.Contains(directory) || Damage(package, directory) == null ? Remember(directory) : null;
    }

    /// <summary>
    /// The package's folder: from the cache when it is there and intact, else fetched (from the offline folder or the
    /// registry), checked and unpacked first. A damaged cache is fetched again.
    /// </summary>
    /// <exception cref="PretrainedStoreException">the package cannot be had; the message names it and says why</exception>
    public string Get(PretrainedPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        string directory = PackageDirectory(package);
        if (verified.Contains(directory)) return directory;
        string? damage = Damage(package, directory);
        if (damage == null) return Remember(directory);
        if (Directory.Exists(directory)) log?.WriteLine($"pretrained {package}: the cache at {directory} is damaged ({damage}); fetching it again.");
        try { Install(package, directory); }
        catch (PretrainedStoreException e) when (Directory.Exists(directory))
        {
            throw new PretrainedStoreException($"{e.Message} The cached copy at {directory} cannot be used: {damage}.", e);
        }
        return Remember(directory);
    }

    string Remember(string directory)
    {
        verified.Add(directory);
        return directory;
    }

    // ----- fetching and unpacking ----------------------------------------------------------------------------------

    void Install(PretrainedPackage package, string directory)
    {
        byte[] expected = package.Sha512();
        Directory.CreateDirectory(CacheDirectory);
        string tarball = Path.Combine(CacheDirectory, $".download-{Guid.NewGuid():N}.tgz");
        string unpacked = Path.Combine(CacheDirectory, $".unpack-{Guid.NewGuid():N}");
        try
        {
            byte[] actual = OfflineDirectory != null ? CopyOffline(package, tarball) : Download(package, tarball);
            if (!CryptographicOperations.FixedTimeEquals(actual, expected))
                throw new PretrainedStoreException(
                    $"pretrained {package}: the tarball's SHA-512 is sha512-{Convert.ToBase64String(actual)}, not the pinned {package.Integrity}; " +
                    $"it was altered or is another release, and is not used ({Source(package)}).");
            var files = Unpack(package, tarball, unpacked);
            WriteRecord(package, unpacked, files);
            MoveIntoPlace(package, unpacked, directory);
            log?.WriteLine($"pretrained {package}: unpacked into {directory}.");
        }
        finally
        {
            TryDelete(tarball);
            TryDelete(unpacked);
        }
    }

    string Source(PretrainedPackage package) => OfflineDirectory != null
        ? $"from the offline folder {Path.Combine(OfflineDirectory, package.TarballName)}" : $"from {package.TarballUri}";

    byte[] CopyOffline(PretrainedPackage package, string destination)
    {
        string source = Path.Combine(OfflineDirectory!, package.TarballName);
        if (!File.Exists(source))
            throw new PretrainedStoreException(
                $"pretrained {package}: the offline folder {OfflineDirectory} has no {package.TarballName}; put the registry's tarball " +
                $"there ({package.TarballUri}, or 'npm pack {package}'), or unset {OfflineVariable} to download it.");
        using var input = File.OpenRead(source);
        return CopyHashing(input, destination);
    }

    byte[] Download(PretrainedPackage package, string destination)
    {
        log?.WriteLine($"pretrained {package}: downloading {package.TarballUri} ...");
        try
        {
            using var client = handler == null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
            client.Timeout = TimeSpan.FromMinutes(10);
            using var response = client.GetAsync(package.TarballUri, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
                throw new PretrainedStoreException($"pretrained {package}: the registry answered {(int)response.StatusCode} {response.ReasonPhrase} for {package.TarballUri}.");
            using var body = response.Content.ReadAsStream();
            return CopyHashing(body, destination);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException and not PretrainedStoreException)
        {
            throw new PretrainedStoreException(
                $"pretrained {package}: cannot download {package.TarballUri} ({e.Message}). Without network access, put " +
                $"{package.TarballName} in a folder and set {OfflineVariable} to that folder.", e);
        }
    }

    /// <summary>Copies <paramref name="input"/> into a new file and returns the SHA-512 of what was copied.</summary>
    static byte[] CopyHashing(Stream input, string destination)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
        var buffer = new byte[1 << 16];
        for (int read; (read = input.Read(buffer)) > 0;)
        {
            sha.AppendData(buffer, 0, read);
            output.Write(buffer, 0, read);
        }
        return sha.GetHashAndReset();
    }

    /// <summary>
    /// Unpacks a gzip'ed tar into <paramref name="destination"/>, dropping each entry's first folder (npm's <c>package/</c>).
    /// Only files and folders are taken; an entry that would land outside the destination is an error.
    /// </summary>
    static SortedDictionary<string, FileRecord> Unpack(PretrainedPackage package, string tarball, string destination)
    {
        var files = new SortedDictionary<string, FileRecord>(StringComparer.Ordinal);
        Directory.CreateDirectory(destination);
        string root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        try
        {
            using var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            for (TarEntry? entry; (entry = reader.GetNextEntry()) != null;)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.Directory)) continue;
                string name = entry.Name.Replace('\\', '/');
                int slash = name.IndexOf('/');
                string relative = slash < 0 ? "" : name[(slash + 1)..].TrimEnd('/');
                if (relative.Length == 0) continue;
                string target = Path.GetFullPath(Path.Combine(destination, relative));
                if (Path.IsPathRooted(relative) || !target.StartsWith(root, StringComparison.Ordinal) || relative.Split('/').Contains(".."))
                    throw new PretrainedStoreException($"pretrained {package}: the tarball's entry '{entry.Name}' would be written outside the package's folder; refused.");
                if (entry.EntryType == TarEntryType.Directory) { Directory.CreateDirectory(target); continue; }
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var output = new FileStream(target, FileMode.Create, FileAccess.Write);
                entry.DataStream?.CopyTo(output);
                files[relative] = new FileRecord(output.Length, "");
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new PretrainedStoreException($"pretrained {package}: the tarball is not a valid gzip'ed tar ({e.Message}).", e);
        }
        if (files.Count == 0) throw new PretrainedStoreException($"pretrained {package}: the tarball holds no files.");
        foreach (var name in files.Keys.ToList())
            files[name] = files[name] with { Sha256 = HashFile(Path.Combine(destination, name)) };
        return files;
    }

    static void WriteRecord(PretrainedPackage package, string directory, SortedDictionary<string, FileRecord> files)
    {
        var record = new PackageRecord(package.Name, package.Version, package.Integrity, files);
        File.WriteAllText(Path.Combine(directory, RecordFileName), JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Renames the unpacked folder into place, first moving aside (then deleting) a damaged copy that is there.</summary>
    void MoveIntoPlace(PretrainedPackage package, string unpacked, string directory)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
        if (Directory.Exists(directory))
        {
            string aside = Path.Combine(CacheDirectory, $".damaged-{Guid.NewGuid():N}");
            Directory.Move(directory, aside);
            TryDelete(aside);
        }
        try { Directory.Move(unpacked, directory); }
        catch (IOException) when (Directory.Exists(directory) && Damage(package, directory) == null)
        {
            // Another process put an intact copy in place first: use it.
        }
    }

    static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path)) File.Delete(path);
            else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    // ----- checking the cache --------------------------------------------------------------------------------------

    /// <summary>Null when <paramref name="directory"/> holds the package as its record says; otherwise what is wrong.</summary>
    static string? Damage(PretrainedPackage package, string directory)
    {
        if (!Directory.Exists(directory)) return "it is not there";
        string recordPath = Path.Combine(directory, RecordFileName);
        if (!File.Exists(recordPath)) return $"{RecordFileName} is missing";
        PackageRecord? record;
        try { record = JsonSerializer.Deserialize<PackageRecord>(File.ReadAllText(recordPath)); }
        catch (JsonException) { return $"{RecordFileName} is not valid JSON"; }
        if (record?.Files == null || record.Integrity != package.Integrity || record.Name != package.Name || record.Version != package.Version)
            return $"{RecordFileName} is for another package or release";
        foreach (var (name, file) in record.Files)
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path)) return $"{name} is missing";
            if (new FileInfo(path).Length != file.Size) return $"{name} has {new FileInfo(path).Length} bytes, not {file.Size}";
            if (HashFile(path) != file.Sha256) return $"{name} was altered (its SHA-256 differs from the one recorded when it was unpacked)";
        }
        return null;
    }

    static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    sealed record FileRecord(long Size, string Sha256);

    sealed record PackageRecord(string Name, string Version, string Integrity, SortedDictionary<string, FileRecord> Files);
}
