// A thin Vue 3 component over kustom-checkout.js, like the platform's KustomCheckout.vue. No build
// step: a component definition with a render function.
//
//   import KustomCheckout from './storefront/KustomCheckout.js';
//   <KustomCheckout :cart-id="cartId" :cart="cart" @state="onState" @confirmed="onConfirmed" />
//
// Props: `cartId` (required; a new id mounts a new checkout), `cart` (hand over the cart the shop
// already has, e.g. after a mutation: the iframe suspends at once), and the options of
// `mountKustomCheckout` (`apiBase`, `termsUrl`, `checkoutUrl`, `confirmationUrl`, `messages`,
// `events`, `pollMs`). Events: `state` (every state), `cart` (every cart seen), `confirmed`,
// `shipping-option` (the carrier the customer picks in Kustom's iframe),
// `error`.
import { defineComponent, h, ref, watch, onMounted, onBeforeUnmount } from 'vue';
import { mountKustomCheckout } from './kustom-checkout.js';

export default defineComponent({
  name: 'KustomCheckout',
  props: {
    cartId: { type: String, required: true },
    cart: { type: Object, default: null },
    apiBase: { type: String, default: undefined },
    termsUrl: { type: String, default: undefined },
    checkoutUrl: { type: String, default: undefined },
    confirmationUrl: { type: String, default: undefined },
    messages: { type: Object, default: undefined },
    events: { type: Boolean, default: undefined },
    pollMs: { type: Number, default: undefined },
  },
  emits: ['state', 'cart', 'confirmed', 'error', 'shipping-option'],
  setup(props, { emit, expose }) {
    const root = ref(null);
    let checkout = null;
    function mount() {
      checkout?.destroy();
      const { cart, ...options } = props;
      checkout = mountKustomCheckout(root.value, {
        ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
        onState: (state) => {
          emit('state', state);
          if (state.phase === 'confirmed') emit('confirmed', state);
          if (state.phase === 'error') emit('error', state);
        },
        onCart: (seen) => emit('cart', seen),
        onShippingOption: (option) => emit('shipping-option', option),
      });
      if (cart) checkout.setCart(cart);
    }
    onMounted(mount);
    onBeforeUnmount(() => checkout?.destroy());
    watch(() => props.cartId, mount);
    watch(() => props.cart, (cart) => { if (cart) checkout?.setCart(cart); });
    expose({ setCart: (cart) => checkout?.setCart(cart), state: () => checkout?.state });
    // The module owns the container's children; Vue renders only the container.
    return () => h('div', { ref: root, class: 'kustom-checkout-host' });
  },
});
