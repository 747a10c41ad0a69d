"""`serve` in embedded mode sends running campaigns itself, next to the web app."""

from __future__ import annotations

from botschaft.services.clock import ManualClock
from botschaft.services.consent_texts import PublishedText
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.testing.fake_whatsapp import FakeWhatsApp
from botschaft.web.app import create_app
from broadcast_setup import FakeInThread, campaign, running_campaign, subscribers
from web_app import free_port, serve_in_thread, wait_for


def test_the_embedded_dispatcher_sends_a_running_campaign(
    ctx: Context, settings: Settings, clock: ManualClock, text_version: PublishedText
) -> None:
    with FakeInThread(FakeWhatsApp(clock=clock.now, throughput_per_second=None)) as fake:
        app = create_app(settings.model_copy(update={"embedded_worker": True,
                                                     "whatsapp": fake.settings()}),
                         clock=clock)
        server, thread = serve_in_thread(app, free_port())
        try:
            campaign_id = running_campaign(ctx, subscribers(ctx, text_version, 5))
            wait_for(lambda: campaign(ctx, campaign_id).status == "done", timeout=20)
        finally:
            server.should_exit = True
            thread.join(10)
        assert sorted(m.to for m in fake.sent) == [f"49151{n:08d}" for n in range(5)]
