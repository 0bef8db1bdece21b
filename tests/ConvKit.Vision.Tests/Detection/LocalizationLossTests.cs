using System.Text.Json;
using ConvKit.Data;
using ConvKit.Tests;
using ConvKit.Tests.Autograd;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// Classification with localisation's target vector, both losses (terms and gradient) and decoding against torch
/// (tools/fixtures/gen_localization.py, whose squared-error twin is checked there against the course's per-picture
/// formula), finite differences, and clear errors for bad targets and outputs.
/// </summary>
public class LocalizationLossTests
{
    static readonly JsonElement Root = Fixtures.Load("localization.json");

    public static TheoryData<int> Cases() => [.. Enumerable.Range(0, Root.GetProperty("cases").GetArrayLength())];

    static JsonElement Case(int index) => Root.GetProperty("cases")[index];

    static LocalizationLoss LossOf(JsonElement c) =>
        new(c.GetProperty("kind").GetString() == "logistic" ? LocalizationLossKind.Logistic : LocalizationLossKind.SquaredError)
        {
            BoxWeight = (float)c.GetProperty("box_weight").GetDouble(),
        };

    static BoundingBoxes[] BoxesOf(JsonElement c)
    {
        int height = c.GetProperty("height").GetInt32(), width = c.GetProperty("width").GetInt32();
        var labels = Fixtures.Ints(c.GetProperty("labels"));
        return c.GetProperty("boxes").EnumerateArray().Select((box, i) => labels[i] < 0
            ? BoundingBoxes.Empty(height, width)
            : new BoundingBoxes(Fixtures.Floats(box), [labels[i]], BoxFormat.Xyxy, height, width)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheTargetVectorsMatchTorch(int index)
    {
        var c = Case(index);
        int classes = c.GetProperty("classes").GetInt32();
        var boxes = BoxesOf(c);
        var targets = LocalizationTarget.Encode(boxes, classes);
        Assert.Equal([boxes.Length, 5 + classes], targets.Shape);
        Close.All(Fixtures.Doubles(c.GetProperty("target")), targets.ToArray(), 1e-6, 1e-7, $"{c.GetProperty("name")}: targets");
        // One picture alone, and the same box in another format, give the same row.
        var first = boxes[0];
        Assert.Equal(targets.ToArray()[..(5 + classes)], LocalizationTarget.Encode(first.ConvertTo(BoxFormat.Cxcywh, relative: true), classes));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheLossTermsAndTheGradientMatchTorch(int index)
    {
        var c = Case(index);
        string name = c.GetProperty("name").GetString()!;
        var output = Fixtures.Tensor(c.GetProperty("output"));
        output.RequiresGrad = true;
        var target = Tensor.FromArray(Fixtures.Floats(c.GetProperty("target")), [.. output.Shape]);
        var terms = LossOf(c).Compute(output, target);
        foreach (var (key, value) in new[] { ("loss", terms.Loss), ("pc_loss", terms.PcLoss), ("box_loss", terms.BoxLoss), ("class_loss", terms.ClassLoss) })
            Close.All([c.GetProperty(key).GetDouble()], [value.Item()], 1e-5, 1e-6, $"{name}: {key}");
        terms.Loss.Backward();
        Close.All(Fixtures.Doubles(c.GetProperty("grad")), output.Grad!.ToArray(), 1e-5, 1e-6, $"{name}: d loss / d output");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheDecodedAnswersMatchTorch(int index)
    {
        var c = Case(index);
        var decoded = LossOf(c).Decode(Fixtures.Tensor(c.GetProperty("output")), c.GetProperty("height").GetInt32(), c.GetProperty("width").GetInt32());
        var expected = c.GetProperty("decoded").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, decoded.Length);
        for (int i = 0; i < decoded.Length; i++)
        {
            string what = $"{c.GetProperty("name")}, picture {i}";
            Assert.Equal(expected[i].GetProperty("class").GetInt32(), decoded[i].Class);
            Close.All([expected[i].GetProperty("pc").GetDouble(), expected[i].GetProperty("score").GetDouble()], [decoded[i].Pc, decoded[i].ClassScore], 1e-5, 1e-7, $"{what}: pc and score");
            Close.All(Fixtures.Doubles(expected[i].GetProperty("box")), [decoded[i].X1, decoded[i].Y1, decoded[i].X2, decoded[i].Y2], 1e-5, 1e-4, $"{what}: box");
        }
    }

    [Theory]
    [InlineData(LocalizationLossKind.SquaredError)]
    [InlineData(LocalizationLossKind.Logistic)]
    public void TheGradientMatchesFiniteDifferences(LocalizationLossKind kind)
    {
        // Three pictures of two classes: two hold an object, one does not.
        float[] target = [1f, 0.5f, 0.4f, 0.3f, 0.6f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1f, 0.2f, 0.7f, 0.25f, 0.1f, 1, 0];
        var loss = new LocalizationLoss(kind) { BoxWeight = 3 };
        // The target is made inside the checked function, so it lives on the backend the check runs on.
        GradCheck.Check(inputs => loss.Compute(inputs[0], Tensor.FromArray(target, 3, 7)).Loss, Tensor.Randn([3, 7], seed: 4) * 0.7f);
    }

    [Fact]
    public void PicturesWithoutAnObjectAddOnlyTheirPcTerm()
    {
        // Whatever the output says about box and class, a pc = 0 picture's loss depends on ŷ₁ alone.
        var target = Tensor.FromArray([0f, 0, 0, 0, 0, 0, 0], 1, 7);
        foreach (var kind in new[] { LocalizationLossKind.SquaredError, LocalizationLossKind.Logistic })
        {
            var output = Tensor.FromArray([0.3f, 9, -4, 2, 7, 5, -3], 1, 7);
            output.RequiresGrad = true;
            var terms = new LocalizationLoss(kind).Compute(output, target);
            terms.Loss.Backward();
            Assert.Equal(0f, terms.BoxLoss.Item());
            Assert.Equal(0f, terms.ClassLoss.Item());
            Assert.Equal(terms.PcLoss.Item(), terms.Loss.Item());
            Assert.Equal(new float[6], output.Grad!.ToArray()[1..]);
            Assert.NotEqual(0f, output.Grad!.ToArray()[0]);
        }
    }

    [Fact]
    public void BadTargetsAndOutputsAreClearErrors()
    {
        var loss = new LocalizationLoss();
        var output = Tensor.Zeros(2, 8);
        var shape = Assert.Throws<ArgumentException>(() => loss.Compute(output, Tensor.Zeros(2, 7)));
        Assert.Contains("LocalizationLoss: the target has shape [2, 7] but the output has [2, 8]", shape.Message);
        Assert.Contains("the output must be (N, 5 + classes) with at least one class, got [2, 5]",
            Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Zeros(2, 5), Tensor.Zeros(2, 5))).Message);
        Assert.Contains("got [2, 2, 8]", Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Zeros(2, 2, 8), Tensor.Zeros(2, 2, 8))).Message);
        Assert.Contains("picture 1's pc is 0.5; it must be 0 (no object) or 1",
            Assert.Throws<ArgumentException>(() => loss.Compute(output, Tensor.FromArray([0f, 0, 0, 0, 0, 0, 0, 0, 0.5f, 0, 0, 0, 0, 1, 0, 0], 2, 8))).Message);
        Assert.Contains("picture 0 has pc = 1 but its class part [1, 1, 0] is not one-hot",
            Assert.Throws<ArgumentException>(() => loss.Compute(output, Tensor.FromArray([1f, 0.5f, 0.5f, 0.2f, 0.2f, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2, 8))).Message);
        Assert.Contains("BoxWeight must be a finite number ≥ 0", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalizationLoss { BoxWeight = -1 }).Message);
        Assert.Contains("LocalizationLoss.Decode: the output must be (N, 5 + classes)", Assert.Throws<ArgumentException>(() => loss.Decode(Tensor.Zeros(3), 8, 8)).Message);

        var two = new BoundingBoxes([1f, 1, 5, 5, 2, 2, 6, 6], [0, 1], BoxFormat.Xyxy, 16, 16);
        Assert.Contains("the picture holds 2 boxes; classification with localisation describes one object (or none)",
            Assert.Throws<ArgumentException>(() => LocalizationTarget.Encode(two, 3)).Message);
        Assert.Contains("LocalizationTarget.Encode: picture 1: the picture holds 2 boxes",
            Assert.Throws<ArgumentException>(() => LocalizationTarget.Encode([BoundingBoxes.Empty(16, 16), two], 3)).Message);
        Assert.Contains("the box's class 3 is outside 0 … 2 for 3 classes",
            Assert.Throws<ArgumentException>(() => LocalizationTarget.Encode(new BoundingBoxes([1f, 1, 5, 5], [3], BoxFormat.Xyxy, 16, 16), 3)).Message);
        Assert.Contains("has x2 < x1 or y2 < y1",
            Assert.Throws<ArgumentException>(() => LocalizationTarget.Encode(new BoundingBoxes([5f, 1, 1, 5], [0], BoxFormat.Xyxy, 16, 16), 3)).Message);
        Assert.Contains("at least one class", Assert.Throws<ArgumentOutOfRangeException>(() => LocalizationTarget.Length(0)).Message);
    }

    [Fact]
    public void TheLocalizerRefusesPicturesOfTheWrongSizeOrChannels()
    {
        using var seeded = Generator.Use(new Generator(3));
        var model = new Localizer(numClasses: 4, inChannels: 1, inputSize: 32, width: 4, hidden: 8);
        Assert.Equal([2, 9], model.Forward(Tensor.Zeros(2, 1, 32, 32)).Shape);
        Assert.Contains("Localizer: the input must be (N, 1, 32, 32) pictures, got [2, 1, 48, 48]",
            Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(2, 1, 48, 48))).Message);
        Assert.Contains("got [2, 3, 32, 32]", Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(2, 3, 32, 32))).Message);
        Assert.Contains("got [1, 32, 32]", Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(1, 32, 32))).Message);
        Assert.Contains("inputSize must be a positive multiple of 16", Assert.Throws<ArgumentOutOfRangeException>(() => new Localizer(inputSize: 40)).Message);
    }
}
