using System.Text.Json;

namespace ConvKit.Tests;

/// <summary>Reads the PyTorch-generated fixtures under Fixtures/ (see tools/fixtures/).</summary>
static class Fixtures
{
    public static JsonElement Load(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    /// <summary>(index, op) of every case in a fixture file, for a [MemberData] theory.</summary>
    public static TheoryData<int, string> Cases(JsonElement root)
    {
        var data = new TheoryData<int, string>();
        int i = 0;
        foreach (var c in root.GetProperty("cases").EnumerateArray())
            data.Add(i++, c.GetProperty("op").GetString()!);
        return data;
    }

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static Tensor Tensor(JsonElement spec) => ConvKit.Tensor.FromArray(Floats(spec.GetProperty("data")), Ints(spec.GetProperty("shape")))
        is var t && spec.GetProperty("shape").GetArrayLength() == 0 ? t.Reshape() : t;
}

static class Close
{
    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| element-wise, reporting the worst element.</summary>
    public static void All(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double rtol, double atol, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} values, expected {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            bool ok = error <= atol + rtol * Math.Abs(expected[i]) || (double.IsNaN(expected[i]) && float.IsNaN(actual[i]));
            Assert.True(ok, $"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {error:g3})");
        }
    }
}
