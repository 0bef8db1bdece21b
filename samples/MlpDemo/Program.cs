// Trains a two-layer perceptron on a generated three-arm spiral with nothing but ConvKit's tensor
// engine: matrix products, broadcasting, reductions and autograd. Layers, losses and optimisers
// arrive as library classes later; here they are spelled out so the whole computation is visible.
using System.Diagnostics;
using ConvKit;

const int Classes = 3, PointsPerClass = 300, Hidden = 64, Epochs = 1500;
const float LearningRate = 0.5f, Momentum = 0.9f;

var (inputs, labels) = Spiral(PointsPerClass, Classes, seed: 0);
var oneHot = OneHot(labels, Classes);

// He-style initialisation for the ReLU layer, small weights for the output layer.
var w1 = (Tensor.Randn([2, Hidden], seed: 1) * MathF.Sqrt(2f / 2)).RequireGrad();
var b1 = Tensor.Zeros(Hidden).RequireGrad();
var w2 = (Tensor.Randn([Hidden, Classes], seed: 2) * 0.1f).RequireGrad();
var b2 = Tensor.Zeros(Classes).RequireGrad();
Tensor[] parameters = [w1, b1, w2, b2];
var velocities = parameters.Select(p => Tensor.Zeros(p.Shape.ToArray())).ToArray();

Tensor Forward(Tensor x) => (x.MatMul(w1) + b1).Maximum(0f).MatMul(w2) + b2;

var clock = Stopwatch.StartNew();
for (int epoch = 1; epoch <= Epochs; epoch++)
{
    var loss = CrossEntropy(Forward(inputs), oneHot);
    foreach (var p in parameters) p.ZeroGrad();
    loss.Backward();
    using (Tensor.NoGrad())
        for (int i = 0; i < parameters.Length; i++)
        {
            // SGD with momentum: v ← μv + g, θ ← θ − ηv
            velocities[i] = velocities[i] * Momentum + parameters[i].Grad!;
            parameters[i].AddInPlace(velocities[i], -LearningRate);
        }
    if (epoch == 1 || epoch % 250 == 0)
        Console.WriteLine($"epoch {epoch,4}  loss {loss.Item():F4}  accuracy {Accuracy(Forward(inputs), labels):P1}");
}
float accuracy = Accuracy(Forward(inputs), labels);
Console.WriteLine($"trained {Epochs} full-batch epochs on {labels.Length} spiral points in {clock.Elapsed.TotalSeconds:F1} s; training accuracy {accuracy:P1}");
return accuracy > 0.95f ? 0 : 1;

// Softmax cross-entropy on logits (N, C) against one-hot targets, via the log-sum-exp trick.
static Tensor CrossEntropy(Tensor logits, Tensor targets)
{
    var shift = logits.Max(1, keepDim: true).Detach();
    var logSumExp = (logits - shift).Exp().Sum(1, keepDim: true).Log() + shift;
    return (logSumExp - (logits * targets).Sum(1, keepDim: true)).Mean();
}

static float Accuracy(Tensor logits, int[] labels)
{
    using var _ = Tensor.NoGrad();
    var predicted = logits.ArgMax(1).ToArray();
    return predicted.Where((p, i) => (int)p == labels[i]).Count() / (float)labels.Length;
}

static (Tensor Inputs, int[] Labels) Spiral(int perClass, int classes, int seed)
{
    var random = new Random(seed);
    var points = new float[perClass * classes * 2];
    var labels = new int[perClass * classes];
    for (int c = 0, i = 0; c < classes; c++)
        for (int j = 0; j < perClass; j++, i++)
        {
            float radius = j / (float)perClass;
            float angle = c * 4f + radius * 4f + (float)random.NextDouble() * 0.2f;
            points[2 * i] = radius * MathF.Sin(angle);
            points[2 * i + 1] = radius * MathF.Cos(angle);
            labels[i] = c;
        }
    return (Tensor.FromArray(points, labels.Length, 2), labels);
}

static Tensor OneHot(int[] labels, int classes)
{
    var values = new float[labels.Length * classes];
    for (int i = 0; i < labels.Length; i++) values[i * classes + labels[i]] = 1f;
    return Tensor.FromArray(values, labels.Length, classes);
}
