using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Hosting;

/// <summary>Which of the app's hosted services the master keeps: the rest of the app does not run there.</summary>
internal static class MasterServices
{
    /// <summary>
    /// Removes every hosted service but OpenTelemetry's (it starts the meter and tracer providers
    /// that export the master's own metrics) and those the app marked with
    /// <c>AddGracefulRestartMasterService</c>. Kestrel and the middleware go too: they start from a hosted service.
    /// </summary>
    public static void RemoveAppServices(IServiceCollection services)
    {
        var kept = services
            .Where(d => d.ServiceType == typeof(MasterServiceMarker) && d.ImplementationInstance is MasterServiceMarker)
            .Select(d => ((MasterServiceMarker)d.ImplementationInstance!).ImplementationType)
            .ToHashSet();
        for (int i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IHostedService) && !KeepsRunning(descriptor, kept))
            {
                services.RemoveAt(i);
            }
        }
    }

    private static bool KeepsRunning(ServiceDescriptor descriptor, HashSet<Type> kept)
    {
        var type = descriptor.IsKeyedService
            ? descriptor.KeyedImplementationType ?? descriptor.KeyedImplementationInstance?.GetType()
            : descriptor.ImplementationType ?? descriptor.ImplementationInstance?.GetType();
        return type is not null && (kept.Contains(type) || IsOpenTelemetry(type));
    }

    /// <summary>True for types from OpenTelemetry's packages (assemblies named <c>OpenTelemetry</c> or <c>OpenTelemetry.*</c>).</summary>
    internal static bool IsOpenTelemetry(Type type)
    {
        string? assembly = type.Assembly.GetName().Name;
        return assembly is not null
            && (assembly == "OpenTelemetry" || assembly.StartsWith("OpenTelemetry.", StringComparison.Ordinal));
    }
}
