using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Hosting;

/// <summary>
/// Applies the role to the app's final service collection, whatever container the app uses.
/// </summary>
/// <remarks>
/// Every host builder of Microsoft.Extensions.Hosting (<c>HostBuilder</c>, <c>HostApplicationBuilder</c>,
/// and so <c>WebApplicationBuilder</c>) announces <c>HostBuilding</c> on the <c>Microsoft.Extensions.Hosting</c>
/// diagnostic listener when <c>Build()</c> starts, passing an <see cref="IHostBuilder"/>; test hosts and
/// design-time tools hook the build the same way. A <c>ConfigureServices</c> callback added to it then
/// runs after every registration of the app and before the container (the default one, Autofac or any
/// other) reads the collection. A service provider factory would not do: the host keeps only the
/// last one registered, so it would replace the app's container or be replaced by it.
/// </remarks>
internal sealed class HostBuildingHook : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    private const string ListenerName = "Microsoft.Extensions.Hosting";
    private const string HostBuildingEvent = "HostBuilding";

    private static readonly Lazy<IDisposable> Subscription =
        new(() => DiagnosticListener.AllListeners.Subscribe(new HostBuildingHook()), LazyThreadSafetyMode.ExecutionAndPublication);

    private HostBuildingHook()
    {
    }

    /// <summary>Listens for host builds from now on, in this whole process; further calls do nothing.</summary>
    public static void EnsureListening() => _ = Subscription.Value;

    /// <summary>
    /// Applies the role if <c>AddGracefulRestart()</c> registered itself in <paramref name="services"/>
    /// and it was not applied yet; does nothing for hosts that do not use the library.
    /// </summary>
    internal static void ApplyPending(HostBuilderContext context, IServiceCollection services)
    {
        var setup = GracefulRestartSetup.FindPending(services);
        setup?.Apply(services, context.Configuration, context.HostingEnvironment.ApplicationName);
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener value)
    {
        if (value.Name == ListenerName)
        {
            value.Subscribe(this, name => name == HostBuildingEvent);
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key == HostBuildingEvent && value.Value is IHostBuilder builder)
        {
            builder.ConfigureServices(ApplyPending);
        }
    }

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }
}
