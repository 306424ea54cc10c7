"""Pages for the network, people and memberships (thin: parse, check, call, render)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import selectors, services
from .forms import DecisionForm, ProfileForm, RegisterInterestForm
from .models import ICB, Group, Membership, Network
from .permissions import can_manage_group


def _validation_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_safe
def home(request):
    """The network, its trusts by ICB, and its SIGs as cards.

    Each SIG shows its summary, its number of active members and, for a
    signed-in person, their own status. A fixed number of queries whatever
    the number of SIGs, trusts or members.
    """
    network = Network.objects.first()
    icbs = list(ICB.objects.prefetch_related("trusts").order_by("name"))
    sigs = list(
        Group.objects.filter(kind=Group.Kind.SIG)
        .annotate(active_members=Count(
            "memberships", filter=Q(memberships__status=Membership.Status.ACTIVE)))
        .order_by("position", "name")
    )
    if request.user.is_authenticated:
        mine = {
            m.group_id: m
            for m in Membership.objects.filter(
                person=request.user, group__in=[s.pk for s in sigs],
                status__in=Membership.CURRENT_STATUSES,
            )
        }
        for sig in sigs:
            sig.my_membership = mine.get(sig.pk)
    return render(request, "members/home.html", {
        "network": network,
        "icbs": icbs,
        "trust_count": sum(len(icb.trusts.all()) for icb in icbs),
        "sigs": sigs,
    })


@login_required
@require_http_methods(["GET", "POST"])
def register_interest(request, slug):
    """Register interest in a SIG: confirm trust and staff group, add an optional note.

    GET shows the form (or, if the person already applied or is a member,
    says so). POST calls :func:`members.services.membership_apply` and
    redirects to "My groups"; a second application is refused with a message.
    """
    group = get_object_or_404(Group, slug=slug, kind=Group.Kind.SIG)
    existing = services.current_membership(person=request.user, group=group)
    if request.method == "POST" and existing is None:
        form = RegisterInterestForm.for_person(request.user, data=request.POST)
        if form.is_valid():
            try:
                services.membership_apply(
                    person=request.user, group=group,
                    trust=form.cleaned_data["trust"],
                    staff_group=form.cleaned_data["staff_group"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                messages.error(request, _validation_message(exc))
                return redirect("members:my_memberships")
            messages.success(
                request,
                f"You have registered interest in {group.name}. The group's chairs will "
                "decide, and we will email you when they have.",
            )
            return redirect("members:my_memberships")
    elif request.method == "POST":
        messages.info(request, _already_message(existing))
        return redirect("members:my_memberships")
    else:
        form = RegisterInterestForm.for_person(request.user)
    return render(request, "members/register_interest.html", {
        "group": group, "form": form, "existing": existing,
        "existing_message": _already_message(existing) if existing else "",
    })


def _already_message(membership: Membership) -> str:
    if membership.status == Membership.Status.ACTIVE:
        return f"You are already a member of {membership.group.name}."
    return (f"You have already registered interest in {membership.group.name}. "
            "The group's chairs have not decided yet.")


def _safe_next(request) -> str | None:
    """The POSTed ``next`` URL if it stays on this site, else None."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@login_required
@require_POST
def application_decide(request, pk):
    """Approve or decline an application (POST ``decision=approve|decline``).

    Only an active chair or deputy chair of the group may decide (403 for
    anyone else, the network office included). The person is emailed by the
    service. Redirects to ``next`` if it is on this site, else to the group's
    chair page.
    """
    membership = get_object_or_404(Membership.objects.select_related("group", "person"), pk=pk)
    if not can_manage_group(request.user, membership.group):
        raise PermissionDenied("Only the group's chairs can decide applications.")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select whether to approve or decline the application")
    else:
        decide = (services.membership_approve if form.cleaned_data["decision"] == "approve"
                  else services.membership_decline)
        try:
            decide(membership=membership, decided_by=request.user)
        except ValidationError as exc:
            messages.error(request, _validation_message(exc))
        else:
            who = membership.person.get_full_name()
            if form.cleaned_data["decision"] == "approve":
                messages.success(request, f"{who} is now a member of {membership.group.name}. "
                                          "We have emailed them.")
            else:
                messages.success(request, f"You declined {who}'s application. "
                                          "We have emailed them.")
    return redirect(_safe_next(request)
                    or reverse("events:chair_dashboard", kwargs={"slug": membership.group.slug}))


def _feed_urls(person) -> tuple[str, str]:
    """The person's private calendar feed as ``(https_url, webcal_url)`` under SITE_URL."""
    path = reverse("events:personal_feed", kwargs={"token": person.calendar_token})
    url = f"{settings.SITE_URL}{path}"
    webcal = "webcal://" + url.split("://", 1)[-1]
    return url, webcal


@require_safe
@login_required
def my_memberships(request):
    """The signed-in person's groups (role and status), their details and calendar feed."""
    memberships = selectors.my_memberships(person=request.user)
    feed_url, webcal_url = _feed_urls(request.user)
    return render(request, "members/my_memberships.html", {
        "memberships": memberships,
        "feed_url": feed_url,
        "webcal_url": webcal_url,
        "person": request.user,
    })


@login_required
@require_http_methods(["GET", "POST"])
def membership_leave(request, pk):
    """Leave a group: GET asks for confirmation, POST ends the membership.

    Only the person's own current memberships (404 otherwise).
    """
    membership = get_object_or_404(
        Membership.objects.select_related("group"), pk=pk, person=request.user,
    )
    if membership.status not in Membership.CURRENT_STATUSES:
        messages.info(request, f"You are no longer in {membership.group.name}.")
        return redirect("members:my_memberships")
    if request.method == "POST":
        try:
            services.membership_leave(membership=membership, ended_by=request.user)
        except ValidationError as exc:
            messages.error(request, _validation_message(exc))
        else:
            messages.success(request, f"You have left {membership.group.name}.")
        return redirect("members:my_memberships")
    return render(request, "members/membership_leave.html", {"membership": membership})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """Change your name, job title, trust and staff group."""
    if request.method == "POST":
        form = ProfileForm.for_person(request.user, data=request.POST)
        if form.is_valid():
            try:
                services.person_update_profile(person=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Your details have been updated.")
                return redirect("members:my_memberships")
    else:
        form = ProfileForm.for_person(request.user)
    return render(request, "members/profile.html", {"form": form})


@login_required
@require_POST
def calendar_reset(request):
    """Give the person a new calendar feed link; the old one stops working at once."""
    services.person_reset_calendar_token(person=request.user)
    messages.success(
        request,
        "Your calendar link has been reset. The old link no longer works: add the new one "
        "to your calendar app.",
    )
    return redirect(reverse("members:my_memberships") + "#calendar")
