"""Call flow: queues, agent routing and presence, and what an ended agent leg means."""
