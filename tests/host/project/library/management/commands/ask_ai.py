"""Host code calling aiadmin's service: one chat turn on behalf of a member, reply printed."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aiadmin.unified import UnifiedAIService


class Command(BaseCommand):
    help = "Ask the AI a question as a member (the first superuser unless --email says who)."

    def add_arguments(self, parser):
        parser.add_argument("question")
        parser.add_argument("--email", default=None)
        parser.add_argument("--provider", default=None, help="A provider slug, e.g. sandbox.")

    def handle(self, *args, question, email, provider, **options):
        members = get_user_model().objects
        member = members.get(email=email) if email else members.filter(is_superuser=True).first()
        if member is None:
            raise CommandError("No member to ask as: create a superuser first.")
        reply = UnifiedAIService().chat(question, member, provider_slug=provider)
        self.stdout.write(f"[{reply.info.provider}/{reply.info.model}] {reply.text}")
