"""plansim: simulate what Qingdao's 2024-2028 S&T action plan will achieve."""
