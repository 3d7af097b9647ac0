using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GracefulHosting.Child.Sockets;

/// <summary>
/// Keeps Kestrel in a child from re-binding its endpoints when the configuration changes. Kestrel
/// does that on its own (<c>reloadOnChange</c>); in a child it would unbind a socket the master
/// passed, or try to bind a new one itself. Endpoints belong to the master, which applies changes
/// with the next restart.
/// </summary>
/// <remarks>
/// <see cref="Endpoints.KestrelReloadFreeze"/> already turns off the host's own reloading loader before
/// Kestrel starts. This guard is for what that leaves: a reloading loader the app creates itself
/// (<c>options.Configure(section, reloadOnChange: true)</c>), and a log line when the section Kestrel's
/// loader reads changes (not when any other setting does).
/// Once Kestrel has started and applied its configuration (with every endpoint callback of the app),
/// its configuration loader is replaced by one over a frozen copy of the same section, with reload
/// off. When the configuration then changes, Kestrel compares the frozen copy with what it bound,
/// finds no difference, and never listens for changes again.
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class EndpointReloadGuard : IDisposable
{
    private readonly KestrelServerOptions _kestrel;
    private readonly IConfiguration _configuration;
    private readonly ILogger _logger;
    private readonly int _masterPid;
    private IDisposable? _changes;

    public EndpointReloadGuard(IOptions<KestrelServerOptions> kestrel, IConfiguration configuration, ILogger<EndpointReloadGuard> logger)
    {
        _kestrel = kestrel.Value;
        _configuration = configuration;
        _logger = logger;
        _masterPid = ChildService.GetParentPid();
    }

    /// <summary>Call after Kestrel has started.</summary>
    public void Freeze()
    {
        if (_kestrel.ConfigurationLoader is not { } loader)
        {
            // Endpoints come from code only: no configuration change can touch them.
            return;
        }

        var live = loader.Configuration;
        var bound = Snapshot(live);
        var frozen = new ConfigurationBuilder()
            .Add(new MemoryConfigurationSource { InitialData = bound })
            .Build();
        _kestrel.Configure(frozen, reloadOnChange: false);

        _changes = ChangeToken.OnChange(_configuration.GetReloadToken, () =>
        {
            if (!SameValues(bound, Snapshot(live)))
            {
                ChildLog.EndpointConfigurationChanged(_logger, _masterPid);
            }
        });
    }

    /// <summary>Every value below <paramref name="section"/>, with keys relative to it.</summary>
    internal static IEnumerable<KeyValuePair<string, string?>> Snapshot(IConfiguration section) =>
        section.AsEnumerable(makePathsRelative: true).Where(pair => pair.Key.Length > 0 && pair.Value is not null).ToList();

    /// <summary>True when both snapshots hold the same keys with the same values, in any order.</summary>
    internal static bool SameValues(IEnumerable<KeyValuePair<string, string?>> a, IEnumerable<KeyValuePair<string, string?>> b)
    {
        // Configuration keys are case-insensitive, values are not.
        var left = a.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase);
        var right = b.ToList();
        return left.Count == right.Count
            && right.All(pair => left.TryGetValue(pair.Key, out string? value) && string.Equals(value, pair.Value, StringComparison.Ordinal));
    }

    public void Dispose() => _changes?.Dispose();
}
