using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>Each op translation, run by ONNX Runtime at a batch other than the traced one, against ConvKit.</summary>
public class ExportOpsTests
{
    /// <summary>Layers and plain tensor code mixed, touching every translation the zoo does not.</summary>
    sealed class Mixed : Module
    {
        readonly Conv2d strided = new(3, 4, 3, stride: 2, padding: "same");
        readonly ConvTranspose2d up = new(4, 4, 3, stride: 2, padding: 1, outputPadding: 1, bias: false);
        readonly BatchNorm2d plainNorm = new(4, affine: false);
        readonly Linear rows = new(6, 5);
        readonly Tensor mix = Tensor.Randn([5, 3], seed: 5);

        public Mixed()
        {
            RegisterModule("strided", strided);
            RegisterModule("up", up);
            RegisterModule("plain_norm", plainNorm);
            RegisterModule("rows", rows);
            using (Tensor.NoGrad())
            {
                plainNorm.RunningMean!.CopyFrom(Tensor.Randn([4], seed: 1) * 0.1f);
                plainNorm.RunningVar!.CopyFrom(Tensor.Rand([4], seed: 2) + 0.5f);
            }
        }

        protected override Tensor ForwardCore(Tensor x)
        {
            var y = F.LeakyRelu(strided.Forward(x), 0.2f);                       // (N, 4, 6, 6)
            y = plainNorm.Forward(up.Forward(y));                                 // (N, 4, 12, 12)
            y = F.Relu6(y) + F.Sigmoid(y) * F.Tanh(y) - y / 3f;
            y = F.Clamp(F.Maximum(y, F.Minimum(y * 2f, F.Neg(y))), -1f, 2f);
            y = F.Upsample(y, scaleFactor: 2);                                    // (N, 4, 24, 24)
            y = F.Upsample(y, size: (13, 11), mode: UpsampleMode.Bilinear);       // (N, 4, 13, 11)
            y = F.AvgPool2d(y, 3, stride: 2, padding: 1, countIncludePad: false); // (N, 4, 7, 6)
            y = F.MaxPool2d(y, 2, ceilMode: true);                                // (N, 4, 4, 3)
            y = F.AdaptiveAvgPool2d(y, (3, 2));                                   // uneven windows
            var z = F.Flatten(F.Permute(y, 0, 1, 3, 2), 2);                       // (N, 4, 6)
            z = rows.Forward(z);                                                  // (N, 4, 5), Linear on 3 axes
            z = F.Softmax(z, -1) + F.LogSoftmax(z, 1);
            z = F.MatMul(F.Exp(z) + F.Sqrt(F.Abs(z)) + F.Log(F.Square(z) + 1f), mix); // (N, 4, 3)
            return F.Flatten(z, 1);
        }
    }

    [Fact]
    public void MixedLayersAndTensorCodeMatchOnnxRuntime()
    {
        var model = new Mixed();
        OrtCheck.ExportAndCompare(model, Tensor.Randn([3, 3, 12, 12], seed: 4), "mixed");
    }
}
