using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>Which of the course's two losses for classification with localisation <see cref="LocalizationLoss"/> computes.</summary>
public enum LocalizationLossKind
{
    /// <summary>
    /// Squared error, as first taught: Σᵢ (ŷᵢ − yᵢ)² over all 5 + n terms when pc = 1, and only (ŷ₁ − y₁)² when pc = 0.
    /// The output is used as it is: ŷ₁ is pc itself and ŷ₆ … are the class scores.
    /// </summary>
    SquaredError,
    /// <summary>
    /// What the course says is used in practice: logistic loss (binary cross-entropy) on pc, squared error on the box,
    /// softmax cross-entropy on the class. The output's ŷ₁ is pc's logit (σ(ŷ₁) is the probability) and ŷ₆ … are class logits.
    /// </summary>
    Logistic,
}

/// <summary>
/// The loss of classification with localisation on a model's output (N, 5 + n) against <see cref="LocalizationTarget"/>
/// vectors (N, 5 + n), averaged over the N pictures. For each picture:
/// <list type="bullet">
/// <item><c>pc_loss</c>: (ŷ₁ − pc)² (<see cref="LocalizationLossKind.SquaredError"/>) or BCEWithLogits(ŷ₁, pc)
/// (<see cref="LocalizationLossKind.Logistic"/>);</item>
/// <item><c>box_loss</c>: pc·Σ (ŷ − y)² over bx, by, bh, bw;</item>
/// <item><c>class_loss</c>: pc·Σ (ŷ − c)² over c1 … cn (squared error), or pc·CrossEntropy(ŷ₆…, class) (logistic);</item>
/// <item>loss = pc_loss + <see cref="BoxWeight"/>·box_loss + class_loss.</item>
/// </list>
/// With BoxWeight 1 and squared error this is the course's loss exactly. Built from differentiable ops, so autograd
/// gives its gradient; pictures without an object (pc = 0) add to pc_loss only.
/// </summary>
public sealed class LocalizationLoss
{
    /// <summary>A loss of the given kind; <see cref="LocalizationLossKind.Logistic"/> unless told.</summary>
    public LocalizationLoss(LocalizationLossKind kind = LocalizationLossKind.Logistic)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "LocalizationLoss: unknown kind.");
        Kind = kind;
    }

    /// <summary>Squared error throughout, or logistic on pc and cross-entropy on the class.</summary>
    public LocalizationLossKind Kind { get; }

    /// <summary>
    /// The weight of the box term (1 in the course). The box's numbers are fractions of the picture, so a few pixels'
    /// error costs little beside a class error; a larger weight trades class accuracy for tighter boxes.
    /// </summary>
    public float BoxWeight
    {
        get => boxWeight;
        init
        {
            if (!(value >= 0 && float.IsFinite(value)))
                throw new ArgumentOutOfRangeException(nameof(BoxWeight), value, $"LocalizationLoss: BoxWeight must be a finite number ≥ 0, not {value}.");
            boxWeight = value;
        }
    }
    readonly float boxWeight = 1;

    /// <summary>The loss and its three terms, each a rank-0 tensor.</summary>
    /// <param name="output">(N, 5 + n): the model's raw output (pc or its logit, bx, by, bh, bw, class scores)</param>
    /// <param name="target">(N, 5 + n): <see cref="LocalizationTarget"/> vectors, pc 0 or 1, a one-hot class where pc = 1</param>
    public LocalizationLossTerms Compute(Tensor output, Tensor target)
    {
        const string op = "LocalizationLoss";
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(target);
        if (output.Rank != 2 || output.Shape[1] < 6)
            throw new ArgumentException($"{op}: the output must be (N, 5 + classes) with at least one class, got {ModelChecks.Format(output.Shape)}.");
        if (!target.Shape.SequenceEqual(output.Shape))
            throw new ArgumentException($"{op}: the target has shape {ModelChecks.Format(target.Shape)} but the output has {ModelChecks.Format(output.Shape)}; " +
                "each picture needs one target vector (pc, bx, by, bh, bw, c1 … cn) of the output's length.");
        int n = output.Shape[0], classes = output.Shape[1] - 5;
        var (objectness, labels) = CheckTarget(op, target.ToArray(), n, classes);

        var present = Tensor.FromArray(objectness, n, 1); // pc as a mask: pictures without an object add nothing to these terms
        var pcTarget = target.Narrow(1, 0, 1);
        var pcLoss = Kind == LocalizationLossKind.SquaredError
            ? (output.Narrow(1, 0, 1) - pcTarget).Square().Mean()
            : F.BinaryCrossEntropyWithLogits(output.Narrow(1, 0, 1), pcTarget);
        var boxLoss = ((output.Narrow(1, 1, 4) - target.Narrow(1, 1, 4)).Square() * present).Sum() / n;
        var classLoss = Kind == LocalizationLossKind.SquaredError
            ? ((output.Narrow(1, 5, classes) - target.Narrow(1, 5, classes)).Square() * present).Sum() / n
            : (F.CrossEntropy(output.Narrow(1, 5, classes), Tensor.FromInt32(labels, n), reduction: Reduction.None) * present.Reshape(n)).Sum() / n;
        return new LocalizationLossTerms(pcLoss + BoxWeight * boxLoss + classLoss, pcLoss, boxLoss, classLoss);
    }

    /// <summary>Each picture's pc and class index (0 where pc = 0); throws unless pc is 0 or 1 and the class one-hot where pc = 1.</summary>
    static (float[] Objectness, int[] Labels) CheckTarget(string op, float[] target, int n, int classes)
    {
        int length = 5 + classes;
        var (objectness, labels) = (new float[n], new int[n]);
        for (int i = 0; i < n; i++)
        {
            var row = target.AsSpan(i * length, length);
            if (row[0] is not (0 or 1)) throw new ArgumentException($"{op}: picture {i}'s pc is {row[0]}; it must be 0 (no object) or 1.");
            objectness[i] = row[0];
            if (row[0] == 0) continue;
            var classPart = row[5..];
            int ones = 0, zeros = 0;
            foreach (float value in classPart) (ones, zeros) = (ones + (value == 1 ? 1 : 0), zeros + (value == 0 ? 1 : 0));
            if (ones != 1 || zeros != classes - 1)
                throw new ArgumentException($"{op}: picture {i} has pc = 1 but its class part [{string.Join(", ", classPart.ToArray())}] is not one-hot.");
            labels[i] = classPart.IndexOf(1f);
        }
        return (objectness, labels);
    }

    /// <summary>
    /// What a model's output says about each picture: pc as a probability (σ(ŷ₁) for the logistic loss, ŷ₁ clipped to
    /// [0, 1] for squared error), the most likely class with its score (softmax probability, or the raw score), and the
    /// box in pixels of a <paramref name="height"/> × <paramref name="width"/> picture (<see cref="LocalizationTarget.BoxOf"/>).
    /// </summary>
    /// <param name="output">(N, 5 + n)</param>
    public Localization[] Decode(Tensor output, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Rank != 2 || output.Shape[1] < 6)
            throw new ArgumentException($"LocalizationLoss.Decode: the output must be (N, 5 + classes) with at least one class, got {ModelChecks.Format(output.Shape)}.");
        if (height < 1 || width < 1) throw new ArgumentException($"LocalizationLoss.Decode: the picture must be at least 1×1, not {height}×{width}.");
        int n = output.Shape[0], length = output.Shape[1];
        var values = output.ToArray();
        var classScores = Kind == LocalizationLossKind.Logistic ? F.Softmax(output.Detach().Narrow(1, 5, length - 5), 1).ToArray() : null;
        var result = new Localization[n];
        for (int i = 0; i < n; i++)
        {
            var row = values.AsSpan(i * length, length);
            var scores = classScores is null ? row[5..] : classScores.AsSpan(i * (length - 5), length - 5);
            int best = 0;
            for (int c = 1; c < scores.Length; c++) if (scores[c] > scores[best]) best = c;
            float pc = Kind == LocalizationLossKind.Logistic ? 1 / (1 + MathF.Exp(-row[0])) : Math.Clamp(row[0], 0, 1);
            var (x1, y1, x2, y2) = LocalizationTarget.BoxOf(row, height, width);
            result[i] = new Localization(pc, best, scores[best], x1, y1, x2, y2);
        }
        return result;
    }
}

/// <summary>A <see cref="LocalizationLoss"/> and its terms, each a rank-0 tensor (loss = pc + BoxWeight·box + class).</summary>
public sealed record LocalizationLossTerms(Tensor Loss, Tensor PcLoss, Tensor BoxLoss, Tensor ClassLoss);

