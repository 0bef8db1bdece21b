using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ConvKit.Vision.Pretrained;

namespace ConvKit.Vision.Tests.Pretrained;

/// <summary>
/// The store against a small tarball made here and served by an in-process HTTP handler (never the network): download,
/// checksum, unpacking, the cache and its repair, the offline folder, and each failure's message.
/// </summary>
public sealed class PretrainedStoreTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("convkit-store-").FullName;
    string Cache => Path.Combine(root, "cache");

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly (string Name, byte[] Content)[] Files =
    [
        ("package/package.json", Encoding.UTF8.GetBytes("""{ "name": "@test/weights", "version": "1.0.0" }""")),
        ("package/model/net.bin", Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray()),
        ("package/demo/readme.txt", Encoding.UTF8.GetBytes("hello")),
    ];

    static byte[] Tarball(IEnumerable<(string Name, byte[] Content)> files)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var (name, content) in files)
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
        var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(tar.ToArray());
        return gz.ToArray();
    }

    static PretrainedPackage PackageOf(byte[] tarball) =>
        new("@test/weights", "1.0.0", "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball)));

    /// <summary>Serves fixed bytes for any request, counting requests; or fails as a machine without network does.</summary>
    sealed class FakeRegistry(byte[]? body, bool offline = false) : HttpMessageHandler
    {
        public int Requests;
        public Uri? LastUri;
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests++;
            LastUri = request.RequestUri;
            if (offline) throw new HttpRequestException("Name or service not known (registry.npmjs.org:443)");
            if (body == null) return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { ReasonPhrase = "Not Found" });
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) });
        }
    }

    [Fact]
    public void Downloads_checks_and_unpacks_once_then_serves_from_the_cache()
    {
        var tarball = Tarball(Files);
        var package = PackageOf(tarball);
        var registry = new FakeRegistry(tarball);
        string folder = new PretrainedStore(Cache, handler: registry).Get(package);

        Assert.Equal(Path.Combine(Cache, "test+weights", "1.0.0"), folder);
        Assert.Equal(new Uri("https://registry.npmjs.org/@test/weights/-/weights-1.0.0.tgz"), registry.LastUri);
        foreach (var (name, content) in Files)
            Assert.Equal(content, File.ReadAllBytes(Path.Combine(folder, name["package/".Length..])));
        // Nothing but the package folder is left in the cache: no temporary download or unpacking folder.
        Assert.Equal(["test+weights"], Directory.GetFileSystemEntries(Cache).Select(Path.GetFileName));

        // A second store (another process) finds it intact and does not download again.
        Assert.Equal(folder, new PretrainedStore(Cache, handler: registry).Get(package));
        Assert.Equal(folder, new PretrainedStore(Cache, handler: registry).FindCached(package));
        Assert.Equal(1, registry.Requests);
    }

    [Fact]
    public void A_tarball_whose_checksum_differs_is_refused_naming_the_package_and_leaves_nothing()
    {
        var tarball = Tarball(Files);
        var package = PackageOf(tarball);
        var tampered = Tarball([.. Files[..2], ("package/demo/readme.txt", Encoding.UTF8.GetBytes("HELLO"))]);
        var error = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, handler: new FakeRegistry(tampered)).Get(package));
        Assert.Contains("@test/weights@1.0.0", error.Message);
        Assert.Contains("SHA-512", error.Message);
        Assert.Contains(package.Integrity, error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Cache));
    }

    [Fact]
    public void Without_network_the_error_names_the_package_and_the_offline_folder_variable()
    {
        var package = PackageOf(Tarball(Files));
        var error = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, handler: new FakeRegistry(null, offline: true)).Get(package));
        Assert.Contains("@test/weights@1.0.0", error.Message);
        Assert.Contains("cannot download", error.Message);
        Assert.Contains(PretrainedStore.OfflineVariable, error.Message);
        Assert.Null(new PretrainedStore(Cache).FindCached(package));

        var missing = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, handler: new FakeRegistry(null)).Get(package));
        Assert.Contains("404", missing.Message);
    }

    [Fact]
    public void An_offline_folder_replaces_the_network_and_is_still_checked()
    {
        var tarball = Tarball(Files);
        var package = PackageOf(tarball);
        string offline = Directory.CreateDirectory(Path.Combine(root, "offline")).FullName;
        var noNetwork = new FakeRegistry(null, offline: true);

        var absent = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, offline, noNetwork).Get(package));
        Assert.Contains("weights-1.0.0.tgz", absent.Message);
        Assert.Contains("@test/weights@1.0.0", absent.Message);

        File.WriteAllBytes(Path.Combine(offline, package.TarballName), Tarball(Files.Reverse()));
        var altered = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, offline, noNetwork).Get(package));
        Assert.Contains("offline folder", altered.Message);

        File.WriteAllBytes(Path.Combine(offline, package.TarballName), tarball);
        string folder = new PretrainedStore(Cache, offline, noNetwork).Get(package);
        Assert.Equal(Files[1].Content, File.ReadAllBytes(Path.Combine(folder, "model", "net.bin")));
        Assert.Equal(0, noNetwork.Requests);
    }

    [Theory]
    [InlineData("altered")]
    [InlineData("truncated")]
    [InlineData("deleted")]
    [InlineData("record deleted")]
    public void A_damaged_cache_is_detected_and_fetched_again(string damage)
    {
        var tarball = Tarball(Files);
        var package = PackageOf(tarball);
        var registry = new FakeRegistry(tarball);
        string folder = new PretrainedStore(Cache, handler: registry).Get(package);
        string weights = Path.Combine(folder, "model", "net.bin");
        switch (damage)
        {
            case "altered": { var bytes = File.ReadAllBytes(weights); bytes[100] ^= 1; File.WriteAllBytes(weights, bytes); break; }
            case "truncated": File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..10]); break;
            case "deleted": File.Delete(weights); break;
            case "record deleted": File.Delete(Path.Combine(folder, PretrainedStore.RecordFileName)); break;
        }
        Assert.Null(new PretrainedStore(Cache).FindCached(package));

        var log = new StringWriter();
        Assert.Equal(folder, new PretrainedStore(Cache, handler: registry, log: log).Get(package));
        Assert.Equal(Files[1].Content, File.ReadAllBytes(weights));
        Assert.Equal(2, registry.Requests);
        Assert.Contains("damaged", log.ToString());
        Assert.Equal(["test+weights"], Directory.GetFileSystemEntries(Cache).Select(Path.GetFileName));
    }

    [Fact]
    public void A_damaged_cache_that_cannot_be_fetched_again_is_a_clear_error()
    {
        var tarball = Tarball(Files);
        var package = PackageOf(tarball);
        string folder = new PretrainedStore(Cache, handler: new FakeRegistry(tarball)).Get(package);
        File.AppendAllText(Path.Combine(folder, "demo", "readme.txt"), " tampered");
        var error = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, handler: new FakeRegistry(null, offline: true)).Get(package));
        Assert.Contains("@test/weights@1.0.0", error.Message);
        Assert.Contains("demo/readme.txt", error.Message);
        Assert.Contains("cannot be used", error.Message);
    }

    [Fact]
    public void A_tarball_entry_escaping_the_package_folder_is_refused()
    {
        var tarball = Tarball([.. Files, ("package/../../evil.txt", Encoding.UTF8.GetBytes("x"))]);
        var error = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, handler: new FakeRegistry(tarball)).Get(PackageOf(tarball)));
        Assert.Contains("outside", error.Message);
        Assert.False(File.Exists(Path.Combine(root, "evil.txt")));
        Assert.Empty(Directory.GetFileSystemEntries(Cache));
    }

    [Fact]
    public void A_corrupt_gzip_with_the_pinned_checksum_is_a_clear_error()
    {
        var garbage = Encoding.UTF8.GetBytes("this is not a gzip file at all");
        var error = Assert.Throws<PretrainedStoreException>(() => new PretrainedStore(Cache, handler: new FakeRegistry(garbage)).Get(PackageOf(garbage)));
        Assert.Contains("not a valid gzip'ed tar", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Cache));
    }

    [Fact]
    public void The_face_api_package_is_pinned_to_the_registry_s_tarball()
    {
        var package = PretrainedPackage.FaceApi;
        Assert.Equal(new Uri("https://registry.npmjs.org/@vladmandic/face-api/-/face-api-1.7.15.tgz"), package.TarballUri);
        Assert.Equal(64, package.Sha512().Length);
        Assert.Throws<ArgumentException>(() => (package with { Integrity = "sha1-abc" }).Sha512());
    }
}
