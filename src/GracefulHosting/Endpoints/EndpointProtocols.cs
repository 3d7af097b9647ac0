using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Endpoints;

// What each plain endpoint speaks (Http1 when it takes HTTP/1.1, Http2 when HTTP/2 alone), found by the probe, so the warm-up speaks it from its first request.
internal sealed class EndpointProtocols
{
    private readonly Lock _lock = new();
    private IReadOnlyDictionary<(string Endpoint, int Occurrence), HttpProtocols> _found =
        new Dictionary<(string Endpoint, int Occurrence), HttpProtocols>();

    public void Record(IReadOnlyDictionary<(string Endpoint, int Occurrence), HttpProtocols> found)
    {
        lock (_lock)
        {
            _found = found;
        }
    }

    // Null when the probe could not tell (an https endpoint, or one it did not reach).
    public HttpProtocols? Of(string endpoint, int occurrence)
    {
        lock (_lock)
        {
            return _found.TryGetValue((endpoint, occurrence), out var protocols) ? protocols : null;
        }
    }
}
