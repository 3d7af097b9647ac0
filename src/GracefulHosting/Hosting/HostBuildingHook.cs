using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Hosting;

// Every Microsoft.Extensions.Hosting builder announces HostBuilding as Build() starts, so the role is applied to the app's final services.
internal sealed class HostBuildingHook : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    private const string ListenerName = "Microsoft.Extensions.Hosting";
    private const string HostBuildingEvent = "HostBuilding";

    private static readonly Lazy<IDisposable> Subscription =
        new(() => DiagnosticListener.AllListeners.Subscribe(new HostBuildingHook()), LazyThreadSafetyMode.ExecutionAndPublication);

    private HostBuildingHook()
    {
    }

    // In this whole process; further calls do nothing.
    public static void EnsureListening() => _ = Subscription.Value;

    // Does nothing for hosts that do not use the library.
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
            // Runs after every registration of the app, before any container reads them; a provider factory would replace the app's container.
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
