"""Socket.IO: the /chat namespace for end users, /live for staff, and broadcast.py."""
