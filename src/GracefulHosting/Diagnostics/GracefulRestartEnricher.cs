using GracefulHosting.Hosting;
using Serilog.Core;
using Serilog.Events;

namespace GracefulHosting.Diagnostics;

/// <summary>
/// Adds <c>pid</c>, <c>role</c> (master, child, direct or disabled) and <c>generation</c> to every
/// Serilog event. <c>UseGracefulRestart()</c> registers it in the service container, so an app that
/// configures Serilog with <c>ReadFrom.Services(services)</c> gets these properties without code.
/// </summary>
internal sealed class GracefulRestartEnricher : ILogEventEnricher
{
    private readonly LogEventProperty _pid;
    private readonly LogEventProperty _role;
    private readonly LogEventProperty _generation;

    public GracefulRestartEnricher(GracefulRestartContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _pid = new LogEventProperty("pid", new ScalarValue(Environment.ProcessId));
        _role = new LogEventProperty("role", new ScalarValue(context.Role.ToString().ToLowerInvariant()));
        _generation = new LogEventProperty("generation", new ScalarValue(context.Generation));
    }

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        logEvent.AddPropertyIfAbsent(_pid);
        logEvent.AddPropertyIfAbsent(_role);
        logEvent.AddPropertyIfAbsent(_generation);
    }
}
