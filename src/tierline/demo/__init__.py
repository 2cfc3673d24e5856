"""Demo data for trying Tierline: `tierline demo` loads it."""

from tierline.demo.loader import DEMO_PASSWORD, DEMO_SIGN_INS, demo_loaded, load_demo

__all__ = ["DEMO_PASSWORD", "DEMO_SIGN_INS", "demo_loaded", "load_demo"]
