using GracefulHosting.Hosting;
using Serilog.Core;
using Serilog.Events;

namespace GracefulHosting.Diagnostics;

// In the container, so an app that configures Serilog with ReadFrom.Services(services) gets pid, role and generation without code.
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
