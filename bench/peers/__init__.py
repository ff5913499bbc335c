"""Peer servers measured in the same run as the project.

All three speak the Channels tutorial's protocol: a client sends `{"message": text}` and every
member of its room, the sender included, receives `{"message": text}`. The room comes from the
URL (`/ws/chat/<room>/` for the tutorial, `/ws/?room=<room>` for the others).
"""
