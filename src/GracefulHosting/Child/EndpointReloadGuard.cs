using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GracefulHosting.Child;

/// <summary>
/// Keeps Kestrel in a child from re-binding its endpoints when the configuration changes. Kestrel
/// does that on its own (<c>reloadOnChange</c>); in a child it would unbind a socket the master
/// passed, or try to bind a new one itself. Endpoints belong to the master, which applies changes
/// with the next restart.
/// </summary>
/// <remarks>
/// <see cref="Endpoints.KestrelReloadFreeze"/> already turns off the host's own reloading loader before
/// Kestrel starts. This guard is for what that leaves: a reloading loader the app creates itself
/// (<c>options.Configure(section, reloadOnChange: true)</c>), and a log line when the configuration changes.
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
        if (_kestrel.ConfigurationLoader is { } loader)
        {
            var frozen = new ConfigurationBuilder()
                .Add(new MemoryConfigurationSource { InitialData = Snapshot(loader.Configuration) })
                .Build();
            _kestrel.Configure(frozen, reloadOnChange: false);
        }

        _changes = ChangeToken.OnChange(_configuration.GetReloadToken, () => ChildLog.EndpointConfigurationChanged(_logger, _masterPid));
    }

    /// <summary>Every value below <paramref name="section"/>, with keys relative to it.</summary>
    internal static IEnumerable<KeyValuePair<string, string?>> Snapshot(IConfiguration section) =>
        section.AsEnumerable(makePathsRelative: true).Where(pair => pair.Key.Length > 0 && pair.Value is not null).ToList();

    public void Dispose() => _changes?.Dispose();
}
