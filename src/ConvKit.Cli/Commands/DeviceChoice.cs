using System.CommandLine;
using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Gpu;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>--device</c>: where a command's tensors live and its kernels run. The command's code is the same on every device:
/// the chosen backend is the default for every tensor the command creates (models, checkpoints, batches).
/// </summary>
static class DeviceChoice
{
    const string Name = "--device";

    /// <summary>Adds <c>--device</c> to <paramref name="command"/>.</summary>
    public static void AddOption(Command command)
    {
        var option = new Option<string>(Name)
        {
            Description = "cpu (the default), cuda or cuda:N (an NVIDIA GPU), or ilgpu-cpu (the GPU kernels run on the CPU, to check them without a GPU).",
            DefaultValueFactory = _ => "cpu",
        };
        option.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>();
            if (!IsKnown(value)) result.AddError($"--device '{value}' is not one of cpu, cuda, cuda:N or ilgpu-cpu");
        });
        command.Add(option);
    }

    static bool IsKnown(string value) => value is "cpu" or "cuda" or "ilgpu-cpu"
        || value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), out int n) && n >= 0;

    /// <summary>
    /// Makes the device <paramref name="parsed"/> names the default backend until the returned scope is disposed, which also
    /// frees a GPU; nothing when the command has no <c>--device</c> or names the CPU. A missing GPU or driver is an
    /// <see cref="InvalidOperationException"/> that says so.
    /// </summary>
    public static IDisposable Use(ParseResult parsed)
    {
        var option = parsed.CommandResult.Command.Options.FirstOrDefault(o => o.Name == Name);
        string device = option == null ? "cpu" : parsed.GetValue<string>(Name) ?? "cpu";
        if (device == "cpu") return Backend.Use(CpuBackend.Instance);
        GpuBackend gpu;
        try
        {
            gpu = device == "ilgpu-cpu" ? GpuBackend.CpuAccelerator() : GpuBackend.Cuda(device == "cuda" ? 0 : int.Parse(device.AsSpan(5)));
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"--device {device}: {e.Message}", e);
        }
        return new GpuScope(gpu, Backend.Use(gpu));
    }

    sealed class GpuScope(GpuBackend gpu, Backend.Scope scope) : IDisposable
    {
        public void Dispose()
        {
            scope.Dispose();
            gpu.Dispose();
        }
    }
}
