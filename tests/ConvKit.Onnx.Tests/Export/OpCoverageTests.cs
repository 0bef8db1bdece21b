using System.Reflection;
using ConvKit.Ops;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>Every public op of F either exports to ONNX or says why it cannot (<see cref="OnnxOpCoverage"/>).</summary>
public class OpCoverageTests
{
    static readonly string[] Ops = typeof(F).GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Where(m => !m.IsSpecialName).Select(m => m.Name).Distinct().Order().ToArray();

    [Fact]
    public void EveryPublicOpExportsOrSaysWhyNot()
    {
        var uncovered = new List<string>();
        foreach (var op in Ops)
        {
            bool translated = OnnxOpCoverage.Translated.Contains(op);
            bool composite = OnnxOpCoverage.Composites.TryGetValue(op, out var parts);
            bool excused = OnnxOpCoverage.NotExported.TryGetValue(op, out var why);
            if (composite) Assert.All(parts!, part => Assert.Contains(part, OnnxOpCoverage.Translated));
            if (excused) Assert.False(string.IsNullOrWhiteSpace(why), $"{op} is listed as not exported without a reason");
            int ways = (translated ? 1 : 0) + (composite ? 1 : 0) + (excused ? 1 : 0);
            if (ways != 1) uncovered.Add($"{op} ({(ways == 0 ? "neither exported nor excused" : "listed more than once")})");
        }
        Assert.True(uncovered.Count == 0, "F ops without a single export status: " + string.Join(", ", uncovered));
        Assert.Contains("Pow", Ops); // the reflection sees the ops at all
    }

    [Fact]
    public void TheTablesNameOnlyRealOps()
    {
        Assert.Empty(OnnxOpCoverage.Composites.Keys.Concat(OnnxOpCoverage.NotExported.Keys).Except(Ops));
    }
}
