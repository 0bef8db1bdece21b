using System.Text.Json;
using ConvKit.Tests;
using ConvKit.Vision.Faces;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>
/// The mined triplet loss and the Siamese pair loss against PyTorch (tools/fixtures/gen_triplet.py): the mined
/// triplets, the loss and the gradients, through the L2 normalisation for the triplet loss.
/// </summary>
public class TripletFixtureTests
{
    const double Rtol = 1e-4, Atol = 1e-5;
    static readonly JsonElement Root = Fixtures.Load("triplet.json");

    public static TheoryData<int, string> Cases() => Fixtures.Cases(Root);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(int index, string op)
    {
        var c = Root.GetProperty("cases")[index];
        var labels = Fixtures.Ints(c.GetProperty("labels"));
        if (op == "triplet") Triplet(c, labels, index);
        else Siamese(c, labels, index);
    }

    static void Triplet(JsonElement c, int[] labels, int index)
    {
        var mining = c.GetProperty("mining").GetString() == "batch_hard" ? TripletMining.BatchHard : TripletMining.BatchSemiHard;
        var loss = new TripletLoss((float)c.GetProperty("margin").GetDouble(), mining, c.GetProperty("squared").GetBoolean());
        var x = Fixtures.Tensor(c.GetProperty("x")).RequireGrad();
        var result = loss.Compute(L2Normalize.Apply(x), labels);

        Assert.Equal(Fixtures.Ints(c.GetProperty("anchors")), result.Triplets.Anchors);
        Assert.Equal(Fixtures.Ints(c.GetProperty("positives")), result.Triplets.Positives);
        Assert.Equal(Fixtures.Ints(c.GetProperty("negatives")), result.Triplets.Negatives);
        Close.All([c.GetProperty("loss").GetDouble()], [result.Loss.Item()], Rtol, Atol, $"triplet #{index} loss");
        result.Loss.Backward();
        Close.All(Fixtures.Doubles(c.GetProperty("grad")), x.Grad!.ToArray(), Rtol, Atol, $"triplet #{index} grad");
    }

    static void Siamese(JsonElement c, int[] labels, int index)
    {
        var embeddings = Fixtures.Tensor(c.GetProperty("embeddings")).RequireGrad();
        var head = new SiameseHead(embeddings.Shape[1]);
        using (Tensor.NoGrad())
        {
            head.Fc.Weight.CopyFrom(Fixtures.Tensor(c.GetProperty("weight")));
            head.Fc.Bias!.CopyFrom(Fixtures.Tensor(c.GetProperty("bias")));
        }
        var (loss, logits, _) = SiameseTask.PairLoss(head, embeddings, labels.Select(l => (float)l).ToArray());

        Close.All(Fixtures.Doubles(c.GetProperty("logits")), logits.ToArray(), Rtol, Atol, $"siamese #{index} logits");
        Close.All([c.GetProperty("loss").GetDouble()], [loss.Item()], Rtol, Atol, $"siamese #{index} loss");
        loss.Backward();
        Close.All(Fixtures.Doubles(c.GetProperty("grad_embeddings")), embeddings.Grad!.ToArray(), Rtol, Atol, $"siamese #{index} grad of the embeddings");
        Close.All(Fixtures.Doubles(c.GetProperty("grad_weight")), head.Fc.Weight.Grad!.ToArray(), Rtol, Atol, $"siamese #{index} grad of the weight");
        Close.All(Fixtures.Doubles(c.GetProperty("grad_bias")), head.Fc.Bias.Grad!.ToArray(), Rtol, Atol, $"siamese #{index} grad of the bias");
    }

    [Fact]
    public void SemiHardFallsBackToTheFarthestNegativeSomewhere()
    {
        // The fixture must exercise both branches of semi-hard mining, or a wrong fallback could pass unseen.
        bool fellBack = false, foundFarther = false;
        foreach (var c in Root.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("op").GetString() != "triplet" || c.GetProperty("mining").GetString() != "batch_semi_hard") continue;
            var x = Fixtures.Tensor(c.GetProperty("x"));
            var e = L2Normalize.Apply(x);
            var d = TripletLoss.PairwiseDistances(e.ToArray(), e.Shape[0], e.Shape[1], c.GetProperty("squared").GetBoolean());
            var a = Fixtures.Ints(c.GetProperty("anchors"));
            var p = Fixtures.Ints(c.GetProperty("positives"));
            var n = Fixtures.Ints(c.GetProperty("negatives"));
            for (int t = 0; t < a.Length; t++)
                if (d[a[t], n[t]] > d[a[t], p[t]]) foundFarther = true; else fellBack = true;
        }
        Assert.True(fellBack && foundFarther, $"fell back: {fellBack}, found a farther negative: {foundFarther}");
    }
}
